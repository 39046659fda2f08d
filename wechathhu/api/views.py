from django.db import connection
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

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


class HealthView(APIView):
    """Liveness and database reachability, for load balancers."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(
        tags=["health"],
        responses={200: inline_serializer("Health", {"status": serializers.CharField()})},
    )
    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok"})


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
