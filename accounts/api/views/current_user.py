"""The signed-in user: account, password, directory card; and seed 001's ``/api/v1/me``."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.models import AuthToken
from accounts.services.users import (
    CARD_FIELDS,
    PROFILE_FIELDS,
    VISIBILITY_FIELDS,
    user_change_password,
    user_update,
)
from wechathhu.api.renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer, EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped

from ..serializers import (
    MeSerializer,
    UserCardSerializer,
    UserCardUpdateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)


class CurrentUserView(APIView):
    """The signed-in user's account: name, e-mail, department, and a password change."""

    http_method_names = ["get", "put", "head", "options"]

    @extend_schema(tags=["current-user"], responses={200: UserSerializer})
    def get(self, request):
        return Response(
            UserSerializer(selectors.user_get_current(user=request.user), context={"request": request}).data
        )

    @extend_schema(
        tags=["current-user"],
        request=UserUpdateSerializer,
        responses={200: UserSerializer, 400: OpenApiResponse(description="字段错误合并为一个字典")},
    )
    def put(self, request):
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user
        if data.get("password"):
            user_change_password(
                user=user,
                old_password=data["old_password"],
                new_password=data["password"],
                keep_token=request.auth if isinstance(request.auth, AuthToken) else None,
            )
        user_update(user=user, data=data, fields=PROFILE_FIELDS)
        return Response(
            UserSerializer(selectors.user_get_current(user=user), context={"request": request}).data
        )


class CurrentUserMetaView(APIView):
    """The signed-in user's directory card (post, phones, QQ, WeChat, description) and who may
    see each field (``<field>_visibility``: ``everyone`` 所有登录用户, ``colleagues`` 同系所同事（同系所的教师和职工，不含学生）和我的好友,
    ``nobody`` 仅自己; staff always see everything)."""

    http_method_names = ["get", "put", "head", "options"]

    @extend_schema(tags=["current-user"], responses={200: UserCardSerializer})
    def get(self, request):
        user = selectors.user_get_current(user=request.user)
        return Response(UserCardSerializer(user, context={"request": request}).data)

    @extend_schema(
        tags=["current-user"], request=UserCardUpdateSerializer, responses={200: UserCardSerializer}
    )
    def put(self, request):
        serializer = UserCardUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_update(
            user=request.user,
            data=serializer.validated_data,
            fields=CARD_FIELDS + VISIBILITY_FIELDS,
        )
        user = selectors.user_get_current(user=request.user)
        return Response(UserCardSerializer(user, context={"request": request}).data)


class MeView(APIView):
    """The signed-in user, in the message center's envelope (seed 001's ``UserResponse``)."""

    renderer_classes = (EnvelopeJSONRenderer, EnvelopeBrowsableAPIRenderer)

    @extend_schema(
        tags=["message-center"],
        responses={200: enveloped(MeSerializer, name="MeEnvelope"), **envelope_errors(401)},
    )
    def get(self, request):
        data = MeSerializer(request.user, context={"request": request}).data
        return EnvelopeResponse(data, message="获取当前用户成功")
