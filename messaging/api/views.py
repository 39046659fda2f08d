"""seed 001's message-center endpoints under ``/api/v1/``, in the ``{code, message, data, timestamp}``
envelope. Views validate input, call one service or selector, and serialise the result."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from messaging import selectors, services
from messaging.models import MessagePriority, MessageType
from wechathhu.api.pagination import EnvelopePagination
from wechathhu.api.renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer, EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped, enveloped_page

from .permissions import CanSendGlobalMessages, CanSendMessages
from .serializers import (
    GlobalMessageInputSerializer,
    MessageCreateInputSerializer,
    MessageDetailSerializer,
    MessageIdsInputSerializer,
    MessageRecipientSerializer,
    MessageSerializer,
    MessageStatsSerializer,
    MessageUpdateInputSerializer,
    RecipientsInputSerializer,
    UnreadCountSerializer,
    UserMessageSerializer,
)
from .throttles import SendRateThrottle

TAGS = ["message-center"]
ADMIN_TAGS = ["message-center-admin"]
MessageEnvelope = enveloped(MessageSerializer, name="MessageEnvelope")
NullEnvelope = enveloped(None, name="NullEnvelope")


def _choices(choices) -> str:
    return "、".join(f"`{value}` {label}" for value, label in choices)


def _bool(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, bool, description=f"{description}（true / false）")


COMMON_FILTERS = [
    OpenApiParameter(
        "type", str, enum=MessageType.values, description=f"消息类型：{_choices(MessageType.choices)}"
    ),
    OpenApiParameter(
        "priority",
        str,
        enum=MessagePriority.values,
        description=f"优先级：{_choices(MessagePriority.choices)}",
    ),
    OpenApiParameter("sender_id", int, description="发送者ID"),
    OpenApiParameter("category_id", int, description="扩展：分类ID（见 `/api/v1/categories`）"),
    OpenApiParameter("search", str, description="在标题和内容中搜索"),
]


class EnvelopeAPIView(GenericAPIView):
    renderer_classes = (EnvelopeJSONRenderer, EnvelopeBrowsableAPIRenderer)
    pagination_class = EnvelopePagination
    pagination_results_key = "messages"
    list_message = "获取消息列表成功"


class SenderAPIView(EnvelopeAPIView):
    permission_classes = (IsAuthenticated, CanSendMessages)
    throttle_classes = (SendRateThrottle,)

    def throttled(self, request, wait):
        raise Throttled(wait=wait, detail="发送消息过于频繁，请稍后再试。")


# --- User endpoints ------------------------------------------------------------------------------


class UserMessageListView(EnvelopeAPIView):
    """我的消息：发送给我（直接或通过系所、班级、分组、身份）的消息和全局消息，最新的在前。

    只含已发布、未撤回、未过期的消息；已归档的消息默认不显示，传 `is_archived=true` 查看。
    """

    serializer_class = UserMessageSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="messages_list",
        parameters=[
            *COMMON_FILTERS,
            _bool("is_read", "是否已读"),
            _bool("is_archived", "是否归档；缺省为 false"),
        ],
        responses={
            200: enveloped_page(UserMessageSerializer, name="UserMessagePage"),
            **envelope_errors(400, 401),
        },
    )
    def get(self, request):
        inbox = selectors.message_inbox(user=request.user, filters=request.query_params)
        page = self.paginate_queryset(inbox)
        return self.get_paginated_response(UserMessageSerializer(page, many=True).data)


class UserMessageDetailView(EnvelopeAPIView):
    """一条我可以看到的消息及我的阅读、归档状态。查看不会自动标记已读（请调用 `/messages/read`）。"""

    @extend_schema(
        tags=TAGS,
        operation_id="messages_retrieve",
        responses={
            200: enveloped(UserMessageSerializer, name="UserMessageEnvelope"),
            **envelope_errors(401, 404),
        },
    )
    def get(self, request, pk: int):
        message = selectors.message_get_for_user(user=request.user, message_id=pk)
        return EnvelopeResponse(UserMessageSerializer(message).data, message="获取消息成功")


class MessageReadView(EnvelopeAPIView):
    """把一条或多条消息标记为已读。我看不到的消息ID会被忽略（不会报错）。"""

    serializer_class = MessageIdsInputSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="messages_read",
        request=MessageIdsInputSerializer,
        responses={200: NullEnvelope, **envelope_errors(400, 401)},
    )
    def post(self, request):
        serializer = MessageIdsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.message_mark_read(user=request.user, message_ids=serializer.validated_data["message_ids"])
        return EnvelopeResponse(None, message="标记消息已读成功")


class MessageArchiveView(EnvelopeAPIView):
    """归档一条或多条消息（归档同时视为已读）。我看不到的消息ID会被忽略（不会报错）。"""

    serializer_class = MessageIdsInputSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="messages_archive",
        request=MessageIdsInputSerializer,
        responses={200: NullEnvelope, **envelope_errors(400, 401)},
    )
    def post(self, request):
        serializer = MessageIdsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.message_archive(user=request.user, message_ids=serializer.validated_data["message_ids"])
        return EnvelopeResponse(None, message="归档消息成功")


class UnreadCountView(EnvelopeAPIView):
    """我的未读消息数量（已发布、未撤回、未过期、未读的消息）。"""

    @extend_schema(
        tags=TAGS,
        operation_id="messages_unread_count",
        responses={200: enveloped(UnreadCountSerializer, name="UnreadCountEnvelope"), **envelope_errors(401)},
    )
    def get(self, request):
        count = selectors.message_unread_count(user=request.user)
        return EnvelopeResponse({"unread_count": count}, message="获取未读消息数量成功")


class MessageStatsView(EnvelopeAPIView):
    """我的消息统计：总数、已读、未读、归档，以及各类型的数量（含已归档的消息）。"""

    @extend_schema(
        tags=TAGS,
        operation_id="messages_stats",
        responses={
            200: enveloped(MessageStatsSerializer, name="MessageStatsEnvelope"),
            **envelope_errors(401),
        },
    )
    def get(self, request):
        stats = selectors.message_stats_for_user(user=request.user)
        return EnvelopeResponse(MessageStatsSerializer(stats).data, message="获取消息统计成功")


# --- Sender (admin) endpoints --------------------------------------------------------------------


class SenderListPagination(EnvelopePagination):
    """seed 001's client builds its report from one page of ``page_size=1000``."""

    max_page_size = 1000


class AdminMessageListView(SenderAPIView):
    """获取系统中所有消息列表：消息中心管理员（拥有“查看消息”权限的职工、超级管理员）可见所有发送者的消息，
    其他发送者只见自己发送的。`page_size` 最大 1000。

    创建消息：职工和“消息发送人”（`messaging.send`）可发给任何用户、系所、班级、分组、身份；辅导员、班主任
    可发给自己的班级及其学生，分组管理员可发给自己的分组及其成员（见 `GET /api/v1/admin/audiences`）；
    `is_global=true` 或覆盖全部用户的受众需 `messaging.send_global` 权限。

    除 `recipient_ids` 外，还可按 `department_ids`、`class_ids`、`group_ids`、`kinds` 指定受众；
    受众在发送时解析一次（只含已启用的账号）。
    """

    serializer_class = MessageSerializer
    pagination_class = SenderListPagination

    def get_serializer_class(self):
        # The browsable API's form for POST is the create input.
        return MessageCreateInputSerializer if self.request.method == "POST" else MessageSerializer

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_list",
        parameters=[
            *COMMON_FILTERS,
            _bool("is_active", "是否有效（未撤回）"),
            _bool("is_global", "是否全局消息"),
            OpenApiParameter("date_from", str, description="发布日期起（含），如 2024-01-01"),
            OpenApiParameter("date_to", str, description="发布日期止（含），如 2024-12-31"),
        ],
        responses={
            200: enveloped_page(MessageSerializer, name="MessagePage"),
            **envelope_errors(400, 401, 403),
        },
    )
    def get(self, request):
        messages = selectors.message_list_for_sender(user=request.user, filters=request.query_params)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_create",
        request=MessageCreateInputSerializer,
        responses={201: MessageEnvelope, **envelope_errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = MessageCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_create(sender=request.user, **serializer.validated_data)
        message = selectors.message_get_for_sender(user=request.user, message_id=message.pk)
        return EnvelopeResponse(
            MessageSerializer(message).data, message="创建成功", status=status.HTTP_201_CREATED
        )


class AdminGlobalMessageView(SenderAPIView):
    """发送全局消息给所有用户（需 `messaging.send_global` 权限或超级管理员）。不会为每个用户写入记录。"""

    permission_classes = (IsAuthenticated, CanSendGlobalMessages)
    serializer_class = GlobalMessageInputSerializer

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_global",
        request=GlobalMessageInputSerializer,
        responses={201: MessageEnvelope, **envelope_errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = GlobalMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_create(sender=request.user, is_global=True, **serializer.validated_data)
        message = selectors.message_get_for_sender(user=request.user, message_id=message.pk)
        return EnvelopeResponse(
            MessageSerializer(message).data, message="发送全局消息成功", status=status.HTTP_201_CREATED
        )


class AdminMessageDetailView(SenderAPIView):
    """更新或删除一条消息：只有发送者可以更新、删除。能看到这条消息的其他人（消息中心管理员）为 403，
    看不到的为 404。"""

    serializer_class = MessageUpdateInputSerializer  # the browsable API's form

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_update",
        request=MessageUpdateInputSerializer,
        responses={200: MessageEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def put(self, request, pk: int):
        message = selectors.message_get_for_sender(user=request.user, message_id=pk, action="update")
        serializer = MessageUpdateInputSerializer(data=request.data, context={"message": message})
        serializer.is_valid(raise_exception=True)
        services.message_update(message=message, data=serializer.validated_data)
        message = selectors.message_get_for_sender(user=request.user, message_id=pk)
        return EnvelopeResponse(MessageSerializer(message).data, message="更新消息成功")

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_delete",
        responses={200: NullEnvelope, **envelope_errors(401, 403, 404)},
    )
    def delete(self, request, pk: int):
        message = selectors.message_get_for_sender(user=request.user, message_id=pk, action="delete")
        services.message_delete(message=message)
        return EnvelopeResponse(None, message="删除消息成功")


class AdminMessageFullDetailView(SenderAPIView):
    """消息详情及其接收者的阅读、归档状态。全局消息只列出已读或已归档的用户。

    `recipients` 最多列出前 1000 个接收者（`MESSAGING_DETAIL_RECIPIENTS`）；完整列表请分页获取：
    `GET /api/v1/admin/messages/{id}/recipients`。
    """

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_detail",
        responses={
            200: enveloped(MessageDetailSerializer, name="MessageDetailEnvelope"),
            **envelope_errors(401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        message = selectors.message_get_for_sender(user=request.user, message_id=pk, with_recipients=True)
        return EnvelopeResponse(MessageDetailSerializer(message).data, message="获取消息详情成功")


class AdminMessageRecipientsView(SenderAPIView):
    """消息的接收者：POST 为定向消息添加接收者（已是接收者的用户会被跳过）；GET（扩展）分页列出接收者
    及其阅读、归档状态，可按 `is_read`、`is_archived` 筛选（如 `is_read=false` 查看谁还没读）。
    添加接收者只有发送者可以操作（消息中心管理员为 403）；查看对能看到这条消息的人开放。"""

    pagination_results_key = "recipients"
    list_message = "获取接收者列表成功"

    def get_serializer_class(self):
        return RecipientsInputSerializer if self.request.method == "POST" else MessageRecipientSerializer

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_recipients_list",
        parameters=[_bool("is_read", "是否已读"), _bool("is_archived", "是否归档")],
        responses={
            200: enveloped_page(MessageRecipientSerializer, name="MessageRecipientPage", key="recipients"),
            **envelope_errors(400, 401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        message = selectors.message_get_for_sender(user=request.user, message_id=pk)
        rows = selectors.message_recipient_list(message=message, filters=request.query_params)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(MessageRecipientSerializer(page, many=True).data)

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_add_recipients",
        request=RecipientsInputSerializer,
        responses={200: NullEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request, pk: int):
        message = selectors.message_get_for_sender(user=request.user, message_id=pk, action="add_recipients")
        serializer = RecipientsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.message_add_recipients(
            message=message, recipient_ids=serializer.validated_data["recipient_ids"], by=request.user
        )
        return EnvelopeResponse(None, message="添加接收者成功")
