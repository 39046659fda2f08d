"""Logging in with 工号/学号 and password or with a WeChat code; both answer this device's token."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import AuthToken
from accounts.services.login import user_login_with_password, user_login_with_wechat_code
from wechathhu.api.schema import DETAIL

from ..serializers import CredentialsSerializer, TokenSerializer, WeChatCodeSerializer
from ..throttles import LoginThrottleMixin


def request_device(request, data) -> str:
    """The device a login comes from: the client's own label, else its User-Agent."""
    return (data.get("device") or request.META.get("HTTP_USER_AGENT") or "")[:255]


def token_response(token: AuthToken, created: bool) -> Response:
    return Response({"token": token.key}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GetTokenView(APIView):
    """Log in with 工号/学号 and password; answers a token for this login.

    201 with a new token (every login, unless ``device_id`` names a device that has a live
    token: then 200 with that token, refreshed).
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()
    # Counted and limited by the login service (per address, per account, every door).
    throttle_classes = ()

    @extend_schema(
        tags=["auth"],
        request=CredentialsSerializer,
        responses={200: TokenSerializer, 201: TokenSerializer, 400: DETAIL, 429: DETAIL},
    )
    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, created = user_login_with_password(
            username=data["username"],
            password=data["password"],
            device=request_device(request, data),
            device_id=data.get("device_id", ""),
            request=request,
        )
        return token_response(token, created)


class WeChatCodeToTokenView(LoginThrottleMixin, APIView):
    """Log in with a ``wx.login()`` code from the mini-program (WeChat code2session)."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(
        tags=["auth"],
        request=WeChatCodeSerializer,
        responses={200: TokenSerializer, 201: TokenSerializer, 400: DETAIL, 429: DETAIL, 503: DETAIL},
    )
    def post(self, request):
        data = WeChatCodeSerializer.validated(request.data)
        token, created = user_login_with_wechat_code(
            code=data["code"],
            device=request_device(request, data),
            device_id=data.get("device_id", ""),
            request=request,
        )
        return token_response(token, created)
