"""Conversations under ``/api/v1/`` in seed 001's envelope: views validate input, call one service
or selector and serialise the result. Authentication: ``Authorization: Bearer <token>`` (or
``Token <token>``)."""

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser

from accounts import selectors as account_selectors
from accounts.models import SchoolClass
from conversations import realtime, selectors, services
from conversations.models import ConversationKind, MessageKind
from wechathhu.api.pagination import EnvelopePagination
from wechathhu.api.parsers import JSONParser
from wechathhu.api.renderers import EnvelopeBrowsableAPIRenderer, EnvelopeJSONRenderer, EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped, enveloped_page
from wechathhu.core.downloads import content_disposition
from wechathhu.core.errors import ApplicationError, NotFoundError

from .serializers import (
    ChatMemberSerializer,
    ChatMessagePageSerializer,
    ChatMessageSerializer,
    ChatUserPresenceSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    DirectStartSerializer,
    EventsSerializer,
    GroupCreateSerializer,
    GroupUpdateSerializer,
    MemberAddSerializer,
    MemberRoleSerializer,
    MessageSendSerializer,
    PingSerializer,
    ReadResultSerializer,
    ReadSerializer,
    ReportSerializer,
    SendManySerializer,
    SendResultSerializer,
    UnreadSerializer,
)

TAGS = ["conversations"]
NullEnvelope = enveloped(None, name="ConversationNullEnvelope")
ConversationEnvelope = enveloped(ConversationDetailSerializer, name="ConversationEnvelope")
MessageEnvelope = enveloped(ChatMessageSerializer, name="ConversationMessageEnvelope")


class ConversationPagination(EnvelopePagination):
    page_size = 20


class EnvelopeAPIView(GenericAPIView):
    renderer_classes = (EnvelopeJSONRenderer, EnvelopeBrowsableAPIRenderer)
    pagination_class = ConversationPagination
    pagination_results_key = "conversations"
    list_message = "获取会话列表成功"


def _detail(request, member, *, status_code=status.HTTP_200_OK, message="成功"):
    """A conversation as I see it, with its members and their presence."""
    conversation = member.conversation
    members = list(selectors.member_list(conversation=conversation))
    partners = {}
    if conversation.kind == ConversationKind.DIRECT:
        partners = {conversation.pk: next((m.user for m in members if m.user_id != request.user.pk), None)}
    book = realtime.PresenceBook(request.user, [m.user for m in members])
    context = {"request": request, "partners": partners, "presence": book, "members": members}
    return EnvelopeResponse(
        ConversationDetailSerializer(member, context=context).data, message=message, status=status_code
    )


class ConversationListView(EnvelopeAPIView):
    """我的会话，最近活动的在前：每个会话带最后一条消息、我的未读数；单聊带对方及其在线状态
    （按对方的隐私设置，可能为 hidden）。"""

    serializer_class = ConversationSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_list",
        responses={
            200: enveloped_page(ConversationSerializer, name="ConversationPage", key="conversations"),
            **envelope_errors(400, 401),
        },
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.membership_list(user=request.user))
        partners = selectors.direct_partners(user=request.user, memberships=page)
        book = realtime.PresenceBook(request.user, partners.values())
        context = {"request": request, "partners": partners, "presence": book}
        return self.get_paginated_response(ConversationSerializer(page, many=True, context=context).data)


class DirectStartView(EnvelopeAPIView):
    """开始（或打开已有的）与某人的单聊：每对用户只有一个单聊，谁先开始都一样。

    可以开始单聊的人：同系所的教师、职工同事；把我加为好友的人；我的班级（辅导员、班主任）的学生与
    其辅导员、班主任（双向）；分组管理员与组员（双向）；职工与任何人。被对方屏蔽或被管理员禁言时为
    403。已有会话时为 200，新建为 201。"""

    serializer_class = DirectStartSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_direct",
        request=DirectStartSerializer,
        responses={
            200: ConversationEnvelope,
            201: ConversationEnvelope,
            **envelope_errors(400, 401, 403, 404),
        },
    )
    def post(self, request):
        data = DirectStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        other = account_selectors.user_get(user_id=data.validated_data["user_id"])
        conversation, created = services.direct_get_or_create(user=request.user, other=other)
        member = selectors.member_get(user=request.user, conversation_id=conversation.pk)
        return _detail(
            request,
            member,
            status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            message="成功",
        )


class GroupCreateView(EnvelopeAPIView):
    """建立群聊（我为群主）：成员须是我可以开始单聊的人，最多 200 人（`CONVERSATIONS_GROUP_MAX_MEMBERS`）。
    `class_id`：班级群，由班级的辅导员、班主任或职工建立，班级的学生、辅导员、班主任全部加入。"""

    serializer_class = GroupCreateSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_group_create",
        request=GroupCreateSerializer,
        responses={201: ConversationEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request):
        data = GroupCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        school_class = None
        if values.get("class_id"):
            school_class = SchoolClass.objects.filter(pk=values["class_id"]).first()
            if school_class is None:
                raise NotFoundError("班级不存在。")
        conversation = services.group_create(
            owner=request.user,
            name=values["name"],
            member_ids=values["member_ids"],
            school_class=school_class,
        )
        member = selectors.member_get(user=request.user, conversation_id=conversation.pk)
        return _detail(request, member, status_code=status.HTTP_201_CREATED, message="创建群聊成功")


class ConversationDetailView(EnvelopeAPIView):
    """一个我所在的会话及其成员（不在其中为 404）。PATCH：群主、管理员修改群名称。"""

    serializer_class = GroupUpdateSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_retrieve",
        responses={200: ConversationEnvelope, **envelope_errors(401, 404)},
    )
    def get(self, request, conversation_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        return _detail(request, member)

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_update",
        request=GroupUpdateSerializer,
        responses={200: ConversationEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def patch(self, request, conversation_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        data = GroupUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_rename(
            conversation=member.conversation, actor=request.user, name=data.validated_data["name"]
        )
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        return _detail(request, member, message="修改成功")


class MemberListView(EnvelopeAPIView):
    """群主、管理员添加成员（须是自己可以开始单聊的人；已在群中的跳过）。"""

    serializer_class = MemberAddSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_members_add",
        request=MemberAddSerializer,
        responses={200: ConversationEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request, conversation_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_add_members(
            conversation=member.conversation, actor=request.user, user_ids=data.validated_data["member_ids"]
        )
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        return _detail(request, member, message="添加成员成功")


class MemberDetailView(EnvelopeAPIView):
    """DELETE：群主、管理员移除成员；移除自己即退出群聊（群主须先移除其他成员）。
    PATCH：群主设置或取消管理员。"""

    serializer_class = MemberRoleSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_members_remove",
        responses={200: NullEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def delete(self, request, conversation_id: int, user_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        if user_id == request.user.pk:
            services.group_leave(conversation=member.conversation, user=request.user)
            return EnvelopeResponse(None, message="已退出群聊")
        services.group_remove_member(conversation=member.conversation, actor=request.user, user_id=user_id)
        return EnvelopeResponse(None, message="已移除成员")

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_members_role",
        request=MemberRoleSerializer,
        responses={
            200: enveloped(ChatMemberSerializer, name="ConversationMemberEnvelope"),
            **envelope_errors(400, 401, 403, 404),
        },
    )
    def patch(self, request, conversation_id: int, user_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = services.group_set_role(
            conversation=member.conversation,
            actor=request.user,
            user_id=user_id,
            role=data.validated_data["role"],
        )
        book = realtime.PresenceBook(request.user, [target.user])
        return EnvelopeResponse(
            ChatMemberSerializer(target, context={"request": request, "presence": book}).data,
            message="修改成功",
        )


def _outgoing(data):
    return services.message_prepare(
        message_type=data["message_type"], text=data.get("message", ""), upload=data.get("file")
    )


class MessageListView(EnvelopeAPIView):
    """GET：会话的历史消息，最新的在前，按 `seq` 游标翻页（`before` 向前、`after` 追新，`limit` 默认 30，
    最多 100）。POST：发送消息——文字用 JSON；图片、文件用 multipart/form-data 的 `file`（按内容检查类型，
    大小见 `CONVERSATIONS_*_MAX_BYTES`）。`client_id` 使重发幂等：同一发送者在同一会话用同一 `client_id`
    重发时返回第一次的消息（200），不会重复。"""

    parser_classes = (JSONParser, MultiPartParser, FormParser)
    serializer_class = MessageSendSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_messages_list",
        parameters=[
            OpenApiParameter("before", int, description="取此 seq 之前（更早）的消息"),
            OpenApiParameter("after", int, description="取此 seq 之后（更新）的消息"),
            OpenApiParameter("limit", int, description="每页数量，默认 30，最多 100"),
        ],
        responses={
            200: enveloped(ChatMessagePageSerializer, name="ConversationMessagePage"),
            **envelope_errors(400, 401, 404),
        },
    )
    def get(self, request, conversation_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        page = selectors.message_page(conversation=member.conversation, params=request.query_params)
        return EnvelopeResponse(
            ChatMessagePageSerializer(page, context={"request": request}).data, message="获取消息成功"
        )

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_messages_send",
        request={"application/json": MessageSendSerializer, "multipart/form-data": MessageSendSerializer},
        responses={200: MessageEnvelope, 201: MessageEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request, conversation_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        data = MessageSendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = services.message_send(
            conversation=member.conversation,
            sender=request.user,
            outgoing=_outgoing(data.validated_data),
            client_id=data.validated_data.get("client_id") or None,
        )
        return EnvelopeResponse(
            ChatMessageSerializer(message, context={"request": request}).data,
            message="发送成功" if created else "消息已发送过（client_id 相同）",
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SendManyView(EnvelopeAPIView):
    """群发（seed 004）：同一条消息发到与每个接收者的单聊（没有时按规则新建），逐个回答 delivered 或
    refused 及原因（`conversation_not_allowed`、`blocked`、`user_inactive`、`conversation_self`……）。
    一次最多 `CONVERSATIONS_SEND_MAX_RECIPIENTS` 人。"""

    parser_classes = (JSONParser, MultiPartParser, FormParser)
    serializer_class = SendManySerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_send_many",
        request={"application/json": SendManySerializer, "multipart/form-data": SendManySerializer},
        responses={
            200: enveloped(SendResultSerializer, many=True, name="ConversationSendManyEnvelope"),
            **envelope_errors(400, 401),
        },
    )
    def post(self, request):
        data = SendManySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        results = services.send_to_many(
            sender=request.user,
            recipient_ids=values["recipient_ids"],
            outgoing=_outgoing(values),
            client_id=values.get("client_id") or None,
        )
        delivered = sum(r.status == "delivered" for r in results)
        return EnvelopeResponse(
            SendResultSerializer(results, many=True).data, message=f"已发送 {delivered}/{len(results)} 人"
        )


class MessageRecallView(EnvelopeAPIView):
    """撤回我发送的消息（`CONVERSATIONS_RECALL_SECONDS`，默认 2 分钟内）：所有成员看到“已撤回”，内容和文件删除。"""

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_messages_recall",
        request=None,
        responses={200: MessageEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request, conversation_id: int, message_id: int):
        message = selectors.message_get(
            user=request.user, conversation_id=conversation_id, message_id=message_id
        )
        message = services.message_recall(message=message, user=request.user)
        return EnvelopeResponse(
            ChatMessageSerializer(message, context={"request": request}).data, message="已撤回"
        )


class MessageFileView(EnvelopeAPIView):
    """下载图片或文件消息的文件：只有会话成员可以下载（其他人 404）；图片内联显示，文件作为附件。"""

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_messages_file",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="文件内容"),
            **envelope_errors(401, 404),
        },
    )
    def get(self, request, conversation_id: int, message_id: int):
        message = selectors.message_get(
            user=request.user, conversation_id=conversation_id, message_id=message_id
        )
        if message.recalled_at or not message.file:
            raise NotFoundError("文件不存在或已撤回。")
        try:
            handle = message.file.open("rb")
        except FileNotFoundError:
            raise NotFoundError("文件不存在。") from None
        response = FileResponse(handle, content_type=message.content_type or "application/octet-stream")
        response["Content-Disposition"] = content_disposition(
            message.file_name or "file", as_attachment=message.message_type != MessageKind.PICTURE
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        return response


class MessageReportView(EnvelopeAPIView):
    """举报会话中的一条消息（每人每条一次）。管理员只能看到被举报的消息及其前后几条。"""

    serializer_class = ReportSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_messages_report",
        request=ReportSerializer,
        responses={201: NullEnvelope, **envelope_errors(400, 401, 404)},
    )
    def post(self, request, conversation_id: int, message_id: int):
        message = selectors.message_get(
            user=request.user, conversation_id=conversation_id, message_id=message_id
        )
        data = ReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.message_report(message=message, reporter=request.user, reason=data.validated_data["reason"])
        return EnvelopeResponse(None, message="举报已提交", status=status.HTTP_201_CREATED)


class ReadView(EnvelopeAPIView):
    """标记已读到 `seq`（缺省为最新一条）：已读位置只前进；返回我的未读数。"""

    serializer_class = ReadSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_read",
        request=ReadSerializer,
        responses={
            200: enveloped(ReadResultSerializer, name="ConversationReadEnvelope"),
            **envelope_errors(400, 401, 404),
        },
    )
    def post(self, request, conversation_id: int):
        member = selectors.member_get(user=request.user, conversation_id=conversation_id)
        data = ReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.conversation_mark_read(
            conversation=member.conversation, user=request.user, seq=data.validated_data.get("seq")
        )
        return EnvelopeResponse(ReadResultSerializer(member).data, message="已读")


class UnreadView(EnvelopeAPIView):
    """我的未读消息总数（角标）：各会话计数器之和，不扫描消息。"""

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_unread",
        responses={
            200: enveloped(UnreadSerializer, name="ConversationUnreadEnvelope"),
            **envelope_errors(401),
        },
    )
    def get(self, request):
        return EnvelopeResponse({"unread_count": selectors.unread_total(user=request.user)}, message="成功")


def _non_negative(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or number > 2**62:
        raise ApplicationError(f"{name} 必须是非负整数。", code="invalid", field=name)
    return number


class EventsView(EnvelopeAPIView):
    """长轮询：有新事件（我的会话里有新消息、撤回、已读、成员变化）时立即返回，否则最多等待
    `wait` 秒（不超过 `CONVERSATIONS_LONGPOLL_SECONDS`，默认 25，需 Redis；为 0 时立即返回，请客户端每几秒
    轮询一次）。首次请求不带 `since`，之后带上次返回的 `seq`；`changed` 为 true 时重新获取会话列表或
    `messages?after=`。"""

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_events",
        parameters=[
            OpenApiParameter("since", int, description="上次返回的 seq"),
            OpenApiParameter(
                "wait", int, description="最多等待的秒数（默认与上限为 CONVERSATIONS_LONGPOLL_SECONDS）"
            ),
        ],
        responses={
            200: enveloped(EventsSerializer, name="ConversationEventsEnvelope"),
            **envelope_errors(400, 401),
        },
    )
    def get(self, request):
        since = _non_negative(request.query_params.get("since"), "since")
        bound = settings.CONVERSATIONS_LONGPOLL_SECONDS
        wait = _non_negative(request.query_params.get("wait"), "wait")
        wait = bound if wait is None else min(wait, bound)
        seq, changed = realtime.events_wait(request.user.pk, since, wait)
        data = {
            "seq": seq,
            "changed": changed,
            "unread_count": selectors.unread_total(user=request.user),
            "wait_seconds": bound,
        }
        return EnvelopeResponse(EventsSerializer(data).data, message="成功")


class PresencePingView(EnvelopeAPIView):
    """心跳（seed 004）：标记我在线 `CONVERSATIONS_PRESENCE_ONLINE_SECONDS` 秒（默认 140），建议每 60 秒一次。
    只写 Redis，不写数据库；Redis 不可用时返回 state=unknown（不会报错）。"""

    @extend_schema(
        tags=TAGS,
        operation_id="presence_ping",
        request=None,
        responses={200: enveloped(PingSerializer, name="PresencePingEnvelope"), **envelope_errors(401)},
    )
    def post(self, request):
        ok = realtime.presence_ping(request.user.pk)
        data = {
            "state": "online" if ok else "unknown",
            "online_seconds": settings.CONVERSATIONS_PRESENCE_ONLINE_SECONDS,
        }
        return EnvelopeResponse(data, message="成功")


class BlockView(EnvelopeAPIView):
    """屏蔽（POST）或取消屏蔽（DELETE）某人：被我屏蔽的人不能再给我发单聊消息，也不能与我开始会话。"""

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_block",
        request=None,
        responses={200: NullEnvelope, **envelope_errors(400, 401, 404)},
    )
    def post(self, request, user_id: int):
        other = account_selectors.user_get(user_id=user_id)
        services.user_block(user=request.user, blocked=other)
        return EnvelopeResponse(None, message="已屏蔽")

    @extend_schema(
        tags=TAGS,
        operation_id="conversations_unblock",
        request=None,
        responses={200: NullEnvelope, **envelope_errors(401, 404)},
    )
    def delete(self, request, user_id: int):
        other = account_selectors.user_get(user_id=user_id)  # 404 for no such user, any id
        services.user_unblock(user=request.user, blocked=other)
        return EnvelopeResponse(None, message="已取消屏蔽")


__all__ = ["ChatUserPresenceSerializer"]
