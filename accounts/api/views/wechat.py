"""Binding WeChat to the signed-in account, and unbinding it."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.models import AuthToken
from accounts.services.wechat import user_bind_wechat, user_unbind_wechat
from wechathhu.api.schema import DETAIL

from ..serializers import UserSerializer, WeChatCodeSerializer


class WeChatAuthView(APIView):
    """Bind WeChat to the signed-in account (PUT), or log this device out and unbind (DELETE)."""

    @extend_schema(tags=["auth"], request=WeChatCodeSerializer, responses={200: UserSerializer, 400: DETAIL})
    def put(self, request):
        data = WeChatCodeSerializer.validated(request.data)
        user = user_bind_wechat(user=request.user, code=data["code"])
        return Response(
            UserSerializer(selectors.user_get_current(user=user), context={"request": request}).data
        )

    @extend_schema(tags=["auth"], request=None, responses={200: UserSerializer})
    def delete(self, request):
        token = request.auth if isinstance(request.auth, AuthToken) else None
        user = user_unbind_wechat(user=request.user, token=token)
        return Response(
            UserSerializer(selectors.user_get_current(user=user), context={"request": request}).data
        )
