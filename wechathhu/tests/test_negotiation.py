"""The negotiation shortcut decides exactly as DRF's negotiation, for what clients send."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from wechathhu.api.negotiation import PortalContentNegotiation
from wechathhu.api.renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer, JSONRenderer

RENDERER_SETS = [
    [JSONRenderer(), BrowsableAPIRenderer()],
    [EnvelopeJSONRenderer(), EnvelopeBrowsableAPIRenderer()],
    [BrowsableAPIRenderer(), JSONRenderer()],
]
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/json; indent=4",
    "application/json, text/plain, */*",
]


def test_the_project_uses_the_shortcut():
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is PortalContentNegotiation


@pytest.mark.parametrize("renderers", RENDERER_SETS)
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?page=2", "?format=json", "?format=api"])
def test_same_choice_as_drf(renderers, accept, query):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    django_request = APIRequestFactory().get("/current-user/" + query, **headers)

    def choice(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(Request(django_request), renderers)
        except NotAcceptable:
            return "406"
        return type(renderer), media_type

    assert choice(PortalContentNegotiation()) == choice(DefaultContentNegotiation())


def test_a_format_suffix_goes_through_drf():
    request = Request(APIRequestFactory().get("/x"))
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    chosen, _ = PortalContentNegotiation().select_renderer(request, renderers, format_suffix="api")
    assert isinstance(chosen, BrowsableAPIRenderer)
