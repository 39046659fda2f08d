from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from wechathhu.health import health

from .renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer, EnvelopeResponse
from .schema import enveloped


class ApiRootView(APIView):
    """Where to start: the API documentation and the main endpoints."""

    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request):
        if request.accepted_renderer.format == "api" and "format" not in request.query_params:
            # A browser (it asks for HTML): the portal's pages. JSON clients get the links below.
            response = redirect("portal:home")
            patch_vary_headers(response, ("Accept",))
            return response

        def link(name):
            return reverse(name, request=request)

        response = Response(
            {
                "docs": link("swagger-ui"),
                "schema": link("schema"),
                "admin": request.build_absolute_uri("/admin/"),
                "get-token": link("accounts:get-token"),
                "current-user": link("accounts:current-user"),
                "departments": link("accounts:department-list"),
                "message-center": request.build_absolute_uri("/api/v1/messages"),
            }
        )
        patch_vary_headers(response, ("Accept",))
        return response


def _part():
    return serializers.ChoiceField(choices=HEALTH_PART_STATES, help_text="ok / down / off（未配置）")


HEALTH_STATES = ["ok", "down"]
HEALTH_PART_STATES = ["ok", "down", "off"]
HEALTH_SERIALIZER = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=HEALTH_STATES),
        "database": _part(),
        "redis": _part(),
        "worker": _part(),
    },
)


class HealthQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=["all", "web"],
        default="all",
        required=False,
        error_messages={"invalid_choice": "scope 只能是 all 或 web。"},
    )


class HealthView(APIView):
    """Health of the deployment: the database, Redis and a Celery worker (its heartbeat in Redis).

    200 when every part is `ok` (or `off`: not configured, e.g. no Redis in the embedded default,
    where tasks run in-process), 503 when one is `down`. `?scope=web` checks only what this web process
    needs to serve (database and Redis): point load balancers there, so a stopped worker does not take
    every web server out of rotation; monitoring checks the whole.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = ()

    @extend_schema(
        tags=["health"],
        parameters=[HealthQuerySerializer],
        responses={
            200: HEALTH_SERIALIZER,
            400: inline_serializer(
                "HealthError", {"scope": serializers.ListField(child=serializers.CharField())}
            ),
            503: HEALTH_SERIALIZER,
        },
    )
    def get(self, request):
        query = HealthQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        state = health(scope=query.validated_data["scope"])
        return Response(state, status=200 if state["status"] == "ok" else 503)


class PingView(APIView):
    """Check that a token is valid; also the benchmark's baseline (same middleware and authentication
    as every endpoint, no work of its own)."""

    renderer_classes = (EnvelopeJSONRenderer, EnvelopeBrowsableAPIRenderer)

    @extend_schema(
        tags=["message-center"],
        responses={
            200: enveloped(
                inline_serializer("Pong", {"user_id": serializers.IntegerField()}), name="PingEnvelope"
            )
        },
    )
    def get(self, request):
        return EnvelopeResponse({"user_id": request.user.pk}, message="pong")
