"""Content negotiation with a shortcut for what the clients send.

The mini-program and seed 001's clients send no ``Accept`` (or ``*/*`` or ``application/json``):
the answer is the view's first renderer, as DRF would decide, without parsing the header into
media types on every request. Anything else (a browser's ``text/html``, ``?format=``, a format
suffix, media-type parameters such as ``indent``) goes through DRF's negotiation.
"""

from rest_framework.negotiation import DefaultContentNegotiation

_ANY = ("*/*", "application/json")


class PortalContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            accept in _ANY
            and not format_suffix
            and renderers
            and (
                not request.META.get("QUERY_STRING")
                or self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            )
        ):
            first = renderers[0]
            if accept == "*/*" or first.media_type == accept:
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
