"""Claiming an imported account from the mini-program (binds WeChat and logs in)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.services.claims import user_claim
from wechathhu.api.schema import DETAIL

from ..serializers import ClaimSerializer, TokenSerializer
from ..throttles import LoginThrottleMixin
from .login import request_device, token_response


class ClaimView(LoginThrottleMixin, APIView):
    """Claim an imported account from the mini-program and bind WeChat in the same step.

    Send 工号/学号, 姓名, the initial password (or the one-time ``claim_code`` staff issued), and a
    fresh ``wx.login()`` code; optionally a ``new_password``. Answers the new token (201) like a
    login. Any mismatch, or an account already claimed, gives one generic 400; attempts are
    throttled per address and per number.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(
        tags=["auth"],
        request=ClaimSerializer,
        responses={200: TokenSerializer, 201: TokenSerializer, 400: DETAIL, 429: DETAIL, 503: DETAIL},
    )
    def post(self, request):
        serializer = ClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, created = user_claim(
            username=data["username"],
            name=data["name"],
            password=data.get("password") or None,
            claim_code=data.get("claim_code") or None,
            new_password=data.get("new_password") or None,
            wechat_code=data["code"],
            device=request_device(request, data),
        )
        return token_response(token, created)
