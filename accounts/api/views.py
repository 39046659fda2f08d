"""Login, devices and the signed-in user's profile (mini-program contract, §2.1 and §3)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import AuthToken
from accounts.privacy import ContactVisibility
from accounts.throttles import LoginRateThrottle, LoginUsernameRateThrottle
from wechathhu.api.pagination import MiniProgramPagination
from wechathhu.api.renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer, EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped
from wechathhu.core.errors import ApplicationError

from .serializers import (
    AuthTokenSerializer,
    ContactQuerySerializer,
    ContactSerializer,
    CredentialsSerializer,
    DepartmentSerializer,
    PublicUserSerializer,
    TokenSerializer,
    UserCardSerializer,
    UserSerializer,
    UserUpdateSerializer,
    WeChatCodeSerializer,
)

DETAIL = OpenApiResponse(description='错误：`{"detail": "…"}`')


def request_device(request, data) -> str:
    """The device a login comes from: the client's own label, else its User-Agent."""
    return (data.get("device") or request.META.get("HTTP_USER_AGENT") or "")[:255]


class LoginThrottleMixin:
    throttle_classes = (LoginRateThrottle, LoginUsernameRateThrottle)

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait=wait, detail="登录尝试过于频繁，请稍后再试。")


def token_response(token: AuthToken, created: bool) -> Response:
    return Response({"token": token.key}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GetTokenView(LoginThrottleMixin, APIView):
    """Log in with 工号/学号 and password; answers this device's token.

    201 when a new token was issued, 200 when this device's live token is returned again.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(
        tags=["auth"],
        request=CredentialsSerializer,
        responses={200: TokenSerializer, 201: TokenSerializer, 400: DETAIL, 429: DETAIL},
    )
    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, created = services.user_login_with_password(
            username=data["username"],
            password=data["password"],
            device=request_device(request, data),
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
        code = request.data.get("code") if hasattr(request.data, "get") else None
        if not code or not isinstance(code, str):
            raise ApplicationError("缺少微信登录凭证 code。")
        serializer = WeChatCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, created = services.user_login_with_wechat_code(
            code=serializer.validated_data["code"], device=request_device(request, serializer.validated_data)
        )
        return token_response(token, created)


class WeChatAuthView(APIView):
    """Bind WeChat to the signed-in account (PUT), or log this device out and unbind (DELETE)."""

    @extend_schema(tags=["auth"], request=WeChatCodeSerializer, responses={200: UserSerializer, 400: DETAIL})
    def put(self, request):
        code = request.data.get("code") if hasattr(request.data, "get") else None
        if not code or not isinstance(code, str):
            raise ApplicationError("缺少微信登录凭证 code。")
        user = services.user_bind_wechat(user=request.user, code=code)
        return Response(
            UserSerializer(selectors.user_get_current(user=user), context={"request": request}).data
        )

    @extend_schema(tags=["auth"], request=None, responses={200: UserSerializer})
    def delete(self, request):
        token = request.auth if isinstance(request.auth, AuthToken) else None
        user = services.user_unbind_wechat(user=request.user, token=token)
        return Response(
            UserSerializer(selectors.user_get_current(user=user), context={"request": request}).data
        )


class LogoutView(APIView):
    """Log this device out: its token stops working; other devices stay signed in."""

    @extend_schema(tags=["auth"], request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(ListAPIView):
    """The devices signed in to my account."""

    serializer_class = AuthTokenSerializer
    pagination_class = None
    queryset = AuthToken.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        return selectors.token_list_for_user(user=self.request.user)

    @extend_schema(tags=["auth"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TokenDetailView(APIView):
    """Sign one of my devices out."""

    @extend_schema(tags=["auth"], request=None, responses={204: None, 404: DETAIL})
    def delete(self, request, pk: int):
        token = selectors.token_list_for_user(user=request.user).filter(pk=pk).first()
        if token is None:
            raise exceptions.NotFound()
        services.token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
            services.user_change_password(
                user=user, old_password=data["old_password"], new_password=data["password"]
            )
        services.user_update(user=user, data=data, fields=services.PROFILE_FIELDS)
        return Response(
            UserSerializer(selectors.user_get_current(user=user), context={"request": request}).data
        )


class CurrentUserMetaView(APIView):
    """The signed-in user's directory card (post, phones, QQ, WeChat, description) and who may
    see each field (``<field>_visibility``: ``everyone`` 所有登录用户, ``colleagues`` 同系所同事和我的好友,
    ``nobody`` 仅自己; staff always see everything)."""

    http_method_names = ["get", "put", "head", "options"]

    @extend_schema(tags=["current-user"], responses={200: UserCardSerializer})
    def get(self, request):
        user = selectors.user_get_current(user=request.user)
        return Response(UserCardSerializer(user, context={"request": request}).data)

    @extend_schema(tags=["current-user"], request=UserCardSerializer, responses={200: UserCardSerializer})
    def put(self, request):
        serializer = UserCardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_update(
            user=request.user,
            data=serializer.validated_data,
            fields=services.CARD_FIELDS + services.VISIBILITY_FIELDS,
        )
        user = selectors.user_get_current(user=request.user)
        return Response(UserCardSerializer(user, context={"request": request}).data)


class DepartmentListView(ListAPIView):
    """All departments (系所), for the profile page's picker."""

    serializer_class = DepartmentSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.department_list()

    @extend_schema(tags=["directory"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MeView(APIView):
    """The signed-in user, in the message center's envelope (seed 001's ``UserResponse``)."""

    renderer_classes = (EnvelopeJSONRenderer, EnvelopeBrowsableAPIRenderer)

    @extend_schema(
        tags=["message-center"],
        responses={200: enveloped(PublicUserSerializer, name="MeEnvelope"), **envelope_errors(401)},
    )
    def get(self, request):
        return EnvelopeResponse(PublicUserSerializer(request.user).data, message="获取当前用户成功")


class ContactPagination(MiniProgramPagination):
    """Pages only when the client asks for one (``?page=N``): the contact page reads one bare
    array (C26), capped at ``DIRECTORY_CONTACTS_LIMIT`` rows."""

    page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        if self.page_query_param not in request.query_params:
            return None
        return super().paginate_queryset(queryset, request, view)


class ContactListView(APIView):
    """The directory (通讯录): every active user, grouped by ``alpha`` in server order.

    Order: letter (``?`` last), pinyin of the full name, number. Each person chooses who may see
    their post, office phone, e-mail, mobile, QQ and WeChat; what the caller may not see is
    ``null``, and is not searched either. Without ``page`` the answer is a bare array of at most
    ``DIRECTORY_CONTACTS_LIMIT`` people (header ``X-Contacts-Truncated: 1`` when cut; narrow with
    ``search`` or ``my=yes``); with ``page`` it is a page of 50.
    """

    pagination_class = ContactPagination

    @extend_schema(
        tags=["directory"],
        parameters=[
            ContactQuerySerializer,
            OpenApiParameter("page", int, required=False, description="页码（不填则返回不分页的数组）"),
        ],
        responses={200: ContactSerializer(many=True), 400: OpenApiResponse(description="参数错误")},
    )
    def get(self, request):
        query = ContactQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visibility = ContactVisibility(request.user)
        queryset = selectors.contact_list(
            visibility=visibility,
            colleagues_only=query.validated_data["my"] == "yes",
            search=query.validated_data.get("search"),
        )
        context = {"request": request, "visibility": visibility}
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        if page is not None:
            return paginator.get_paginated_response(ContactSerializer(page, many=True, context=context).data)
        limit = settings.DIRECTORY_CONTACTS_LIMIT
        rows = list(queryset[: limit + 1])
        response = Response(ContactSerializer(rows[:limit], many=True, context=context).data)
        if len(rows) > limit:
            response["X-Contacts-Truncated"] = "1"
        return response


class FriendView(APIView):
    """Add a person to my friends (POST) or remove them (DELETE). Answers 200 with no body.

    Adding oneself or adding twice is a 400; an unknown or inactive user is a 404. A friend
    you add sees the card fields you keep for "colleagues and friends".
    """

    @extend_schema(tags=["directory"], request=None, responses={200: None, 400: DETAIL, 404: DETAIL})
    def post(self, request, user_id: int):
        friend = selectors.user_get_active(user_id=user_id)
        if friend is None:
            raise exceptions.NotFound()
        services.friendship_create(user=request.user, friend=friend)
        return Response(status=status.HTTP_200_OK)

    @extend_schema(tags=["directory"], request=None, responses={200: None, 404: DETAIL})
    def delete(self, request, user_id: int):
        friend = selectors.user_get_active(user_id=user_id)
        if friend is None:
            raise exceptions.NotFound()
        services.friendship_delete(user=request.user, friend=friend)
        return Response(status=status.HTTP_200_OK)
