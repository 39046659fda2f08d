"""Mini-program endpoints of accounts (contract §2.1, §2.4, §3): login and devices, the signed-in
user's profile and card, the directory with its privacy rules, friends, groups and classes,
account claiming, registration, avatars and user search."""

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import AuthToken, CampusGroup
from accounts.privacy import ContactVisibility
from accounts.throttles import LoginRateThrottle, LoginUsernameRateThrottle, RegisterRateThrottle
from wechathhu.api.pagination import MiniProgramPagination
from wechathhu.api.renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer, EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped
from wechathhu.core.errors import ApplicationError

from .serializers import (
    AuthTokenSerializer,
    AvatarUploadSerializer,
    ClaimSerializer,
    ContactQuerySerializer,
    ContactSerializer,
    CredentialsSerializer,
    DepartmentSerializer,
    GroupMemberCreateSerializer,
    GroupMemberSerializer,
    GroupMemberUpdateSerializer,
    GroupSerializer,
    PublicUserSerializer,
    RegisterSerializer,
    RegistrationSerializer,
    SchoolClassSerializer,
    SearchQuerySerializer,
    TokenSerializer,
    UserCardSerializer,
    UserSearchQuerySerializer,
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


CONTACT_PAGE_SIZE = 50


class ContactListView(APIView):
    """The directory (通讯录): every active user, grouped by ``alpha`` in server order.

    Order: letter (``?`` last), pinyin of the full name, number. Each person chooses who may see
    their post, office phone, e-mail, mobile, QQ and WeChat; what the caller may not see is
    ``null``, and is not searched either. The answer is always a bare array (C26): without
    ``page``, at most ``DIRECTORY_CONTACTS_LIMIT`` people (header ``X-Contacts-Truncated: 1`` when
    cut; narrow with ``search`` or ``my=yes``); with ``page=N``, the N-th 50 people, the total in
    the ``X-Total-Count`` header.
    """

    @extend_schema(
        tags=["directory"],
        parameters=[
            ContactQuerySerializer,
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
        rows = selectors.contact_rows(queryset)
        context = {"request": request, "visibility": visibility}
        page = query.validated_data.get("page")
        if page is not None:
            start = (page - 1) * CONTACT_PAGE_SIZE
            entries = rows[start : start + CONTACT_PAGE_SIZE]
            response = Response(ContactSerializer(entries, many=True, context=context).data)
            response["X-Total-Count"] = str(queryset.count())
            return response
        limit = settings.DIRECTORY_CONTACTS_LIMIT
        entries = list(rows[: limit + 1])
        response = Response(ContactSerializer(entries[:limit], many=True, context=context).data)
        if len(entries) > limit:
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
        friend = selectors.user_get(user_id=user_id)  # a friend who has left can still be removed
        if friend is None:
            raise exceptions.NotFound()
        services.friendship_delete(user=request.user, friend=friend)
        return Response(status=status.HTTP_200_OK)


# --- Groups and classes ---------------------------------------------------------------------------


class GroupListView(ListAPIView):
    """The groups (分组: 班干部, 学生会, 协会 …) I belong to, with my title; staff see every group."""

    serializer_class = GroupSerializer
    pagination_class = MiniProgramPagination
    queryset = CampusGroup.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        return selectors.group_list_for_user(user=self.request.user)

    @extend_schema(tags=["groups"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _group_or_404(request, group_id: int) -> CampusGroup:
    group = selectors.group_get_for_user(user=request.user, group_id=group_id)
    if group is None:
        raise exceptions.NotFound()
    return group


class GroupMemberListView(APIView):
    """A group's members with their titles (members and staff may look); add a member (the
    group's managers and staff; only staff may make someone a manager)."""

    pagination_class = MiniProgramPagination

    @extend_schema(tags=["groups"], responses={200: GroupMemberSerializer(many=True), 404: DETAIL})
    def get(self, request, group_id: int):
        group = _group_or_404(request, group_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.group_member_list(group=group), request, view=self)
        return paginator.get_paginated_response(GroupMemberSerializer(page, many=True).data)

    @extend_schema(
        tags=["groups"],
        request=GroupMemberCreateSerializer,
        responses={201: GroupMemberSerializer, 400: DETAIL, 403: DETAIL, 404: DETAIL},
    )
    def post(self, request, group_id: int):
        group = _group_or_404(request, group_id)
        serializer = GroupMemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.group_member_add(group=group, by=request.user, **serializer.validated_data)
        membership = selectors.group_member_list(group=group).get(pk=membership.pk)
        return Response(GroupMemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class GroupMemberDetailView(APIView):
    """Change a member's title or manager flag, or remove them from the group."""

    def _membership(self, request, group_id: int, user_id: int):
        group = _group_or_404(request, group_id)
        membership = selectors.group_membership_get(group=group, user_id=user_id)
        if membership is None:
            raise exceptions.NotFound()
        return membership

    @extend_schema(
        tags=["groups"],
        request=GroupMemberUpdateSerializer,
        responses={200: GroupMemberSerializer, 400: DETAIL, 403: DETAIL, 404: DETAIL},
    )
    def patch(self, request, group_id: int, user_id: int):
        membership = self._membership(request, group_id, user_id)
        serializer = GroupMemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.group_member_update(membership=membership, by=request.user, **serializer.validated_data)
        membership = selectors.group_member_list(group=membership.group).get(pk=membership.pk)
        return Response(GroupMemberSerializer(membership).data)

    @extend_schema(tags=["groups"], request=None, responses={204: None, 403: DETAIL, 404: DETAIL})
    def delete(self, request, group_id: int, user_id: int):
        membership = self._membership(request, group_id, user_id)
        services.group_member_remove(membership=membership, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchoolClassListView(APIView):
    """Classes (班级) with their department, head teacher (班主任), counsellors (辅导员) and number
    of students; ``search`` matches the name, major or department."""

    pagination_class = MiniProgramPagination

    @extend_schema(
        tags=["groups"], parameters=[SearchQuerySerializer], responses={200: SchoolClassSerializer(many=True)}
    )
    def get(self, request):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        queryset = selectors.school_class_list(search=query.validated_data.get("search"))
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(SchoolClassSerializer(page, many=True).data)


# --- Claiming, registration, avatar, user search --------------------------------------------------


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
        token, created = services.user_claim(
            username=data["username"],
            name=data["name"],
            password=data.get("password") or None,
            claim_code=data.get("claim_code") or None,
            new_password=data.get("new_password") or None,
            wechat_code=data["code"],
            device=request_device(request, data),
        )
        return token_response(token, created)


class RegisterView(APIView):
    """Open registration (off unless ``ACCOUNTS_OPEN_REGISTRATION`` is on: 403 otherwise).

    The new account waits for staff approval in the admin; until then logging in answers
    that the application is awaiting approval.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (RegisterRateThrottle,)

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait=wait, detail="注册过于频繁，请稍后再试。")

    @extend_schema(
        tags=["auth"],
        request=RegisterSerializer,
        responses={201: RegistrationSerializer, 400: DETAIL, 403: DETAIL, 429: DETAIL},
    )
    def post(self, request):
        if not settings.ACCOUNTS_OPEN_REGISTRATION:
            raise ApplicationError(services.REGISTRATION_CLOSED, status=403, code="registration_closed")
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(RegistrationSerializer(user).data, status=status.HTTP_201_CREATED)


class CurrentUserAvatarView(APIView):
    """Upload my avatar (``multipart/form-data``, field ``avatar``: a JPEG, PNG, GIF or WebP image
    up to ``AVATAR_MAX_BYTES``; it is re-encoded as a square JPEG), or remove it."""

    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        tags=["current-user"],
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={200: UserSerializer, 400: OpenApiResponse(description='`{"avatar": ["…"]}`')},
    )
    def put(self, request):
        serializer = AvatarUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_set_avatar(user=request.user, upload=serializer.validated_data["avatar"])
        user = selectors.user_get_current(user=request.user)
        return Response(UserSerializer(user, context={"request": request}).data)

    @extend_schema(tags=["current-user"], request=None, responses={200: UserSerializer})
    def delete(self, request):
        services.user_remove_avatar(user=request.user)
        user = selectors.user_get_current(user=request.user)
        return Response(UserSerializer(user, context={"request": request}).data)


class AvatarView(APIView):
    """An avatar image. The URL (as given in ``avatar`` fields) is the permission: its key is
    unguessable and changes with every upload, so it can be cached for long."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(tags=["current-user"], responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: DETAIL})
    def get(self, request, user_id: int, key: str):
        user = selectors.user_get_active(user_id=user_id)
        if user is None or not user.avatar or user.avatar.name.rsplit("/", 1)[-1] != f"{key}.jpg":
            raise exceptions.NotFound()
        try:
            handle = user.avatar.storage.open(user.avatar.name, "rb")
        except FileNotFoundError:
            raise exceptions.NotFound()
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "public, max-age=2592000, immutable"
        return response


class UserSearchView(APIView):
    """Find people by 工号/学号 (exact or prefix), name, or pinyin (full or initials); answers
    directory entries, 20 per page, with the same privacy as ``/contacts/``."""

    pagination_class = MiniProgramPagination

    @extend_schema(
        tags=["directory"],
        parameters=[UserSearchQuerySerializer, OpenApiParameter("page", int, required=False)],
        responses={200: ContactSerializer(many=True), 400: OpenApiResponse(description='`{"q": ["…"]}`')},
    )
    def get(self, request):
        query = UserSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visibility = ContactVisibility(request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.contact_rows(selectors.user_search(query=query.validated_data["q"])), request, view=self
        )
        context = {"request": request, "visibility": visibility}
        return paginator.get_paginated_response(ContactSerializer(page, many=True, context=context).data)
