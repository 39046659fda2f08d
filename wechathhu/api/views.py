from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRootView(APIView):
    """Where to start: the API documentation and the main endpoints."""

    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request):
        def link(name):
            return reverse(name, request=request)

        return Response(
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
