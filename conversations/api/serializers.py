"""Input and output shapes of the conversation endpoints (``/api/v1/conversations…``)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import AvatarUrlField, avatar_url
from conversations.models import ConversationKind, MemberRole, MessageKind

MAX_ID = 2**63 - 1
MAX_MEMBER_IDS = 1000

# The answers below are written out directly (``to_representation``) rather than field by field:
# a page of the conversation list nests a message and one or two people in each of its 20 rows,
# and DRF's field machinery cost several times the page's queries (profiled on the bench's user
# with 500 conversations). The declared fields still document the shape for the schema, and a
# test checks that both ways write the same answer.
_DATETIME = serializers.DateTimeField()


def _when(value):
    return None if value is None else _DATETIME.to_representation(value)


def _person(user, context) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "nickname": user.full_name or user.username,
        "avatar": avatar_url(user.pk, user.avatar and user.avatar.name, request=context.get("request")),
    }


class ChatPresenceSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["online", "offline", "unknown", "hidden"],
        help_text="online 在线；offline 离线；unknown 暂时无法得知（服务降级）；hidden 对方不公开",
    )
    last_seen_at = serializers.DateTimeField(allow_null=True, help_text="最近在线时间；不公开时为 null")


class ChatUserSerializer(serializers.Serializer):
    """A person as conversations show them: seed 004's avatar and name (``nickname``)."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    nickname = serializers.SerializerMethodField(help_text="姓名（没有姓名时为工号/学号）")
    avatar = AvatarUrlField(help_text="头像地址，没有头像时为 null")

    def get_nickname(self, user) -> str:
        return user.full_name or user.username

    def to_representation(self, user):
        return _person(user, self.context)


class ChatUserPresenceSerializer(ChatUserSerializer):
    presence = serializers.SerializerMethodField()

    @extend_schema_field(ChatPresenceSerializer)
    def get_presence(self, user):
        book = self.context.get("presence")
        return book.state(user) if book is not None else None

    def to_representation(self, user):
        return _person_with_presence(user, self.context)


class ChatFileSerializer(serializers.Serializer):
    name = serializers.CharField(source="file_name")
    size = serializers.IntegerField(source="file_size")
    content_type = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="下载地址（仅会话成员可下载）")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, message) -> str:
        path = reverse(
            "conversations:message-file",
            kwargs={"conversation_id": message.conversation_id, "message_id": message.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ChatMessageSerializer(serializers.Serializer):
    """One message (seed 004: ``message_id``, ``message_type``, ``message``, ``timestamp``)."""

    id = serializers.IntegerField(help_text="消息ID（seed 004 的 message_id）")
    conversation_id = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="会话内的序号：所有成员看到同一顺序，翻页游标")
    sender = serializers.SerializerMethodField()
    message_type = serializers.ChoiceField(choices=MessageKind.choices)
    message = serializers.CharField(source="text", help_text="文字内容；图片、文件消息为空；撤回后为空")
    file = serializers.SerializerMethodField()
    client_id = serializers.SerializerMethodField(help_text="发送时的客户端标识（只对发送者显示）")
    created_at = serializers.DateTimeField()
    timestamp = serializers.SerializerMethodField(help_text="发送时间（Unix 秒，seed 004）")
    recalled = serializers.SerializerMethodField()

    @extend_schema_field(ChatUserSerializer(allow_null=True))
    def get_sender(self, message):
        return ChatUserSerializer(message.sender, context=self.context).data if message.sender_id else None

    @extend_schema_field(ChatFileSerializer(allow_null=True))
    def get_file(self, message):
        if message.recalled_at or not message.file:
            return None
        return ChatFileSerializer(message, context=self.context).data

    def get_client_id(self, message) -> str | None:
        request = self.context.get("request")
        if request is not None and message.sender_id == request.user.pk:
            return message.client_id
        return None

    def get_timestamp(self, message) -> int:
        return int(message.created_at.timestamp())

    def get_recalled(self, message) -> bool:
        return message.recalled_at is not None

    def to_representation(self, message):
        return _message(message, self.context)


def _person_with_presence(user, context) -> dict:
    book = context.get("presence")
    return {**_person(user, context), "presence": book.state(user) if book is not None else None}


def _message(message, context) -> dict:
    file = None
    if not message.recalled_at and message.file:
        path = reverse(
            "conversations:message-file",
            kwargs={"conversation_id": message.conversation_id, "message_id": message.pk},
        )
        request = context.get("request")
        file = {
            "name": message.file_name,
            "size": message.file_size,
            "content_type": message.content_type,
            "url": request.build_absolute_uri(path) if request is not None else path,
        }
    request = context.get("request")
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender": _person(message.sender, context) if message.sender_id else None,
        "message_type": message.message_type,
        "message": message.text,
        "file": file,
        "client_id": (
            message.client_id if request is not None and message.sender_id == request.user.pk else None
        ),
        "created_at": _when(message.created_at),
        "timestamp": int(message.created_at.timestamp()),
        "recalled": message.recalled_at is not None,
    }


class ConversationSerializer(serializers.Serializer):
    """One of my conversations, from my membership."""

    id = serializers.IntegerField(source="conversation_id")
    kind = serializers.ChoiceField(source="conversation.kind", choices=ConversationKind.choices)
    name = serializers.SerializerMethodField(help_text="群名称；单聊为对方姓名")
    other_user = serializers.SerializerMethodField(help_text="单聊的对方及其在线状态；群聊为 null")
    member_count = serializers.IntegerField(source="conversation.member_count")
    my_role = serializers.ChoiceField(source="role", choices=MemberRole.choices)
    unread_count = serializers.IntegerField(help_text="我的未读数")
    last_read_seq = serializers.IntegerField()
    last_seq = serializers.IntegerField(source="conversation.last_seq")
    last_message = serializers.SerializerMethodField()
    last_activity_at = serializers.DateTimeField()

    def _other(self, member):
        return self.context.get("partners", {}).get(member.conversation_id)

    def get_name(self, member) -> str:
        if member.conversation.kind == ConversationKind.GROUP:
            return member.conversation.name
        other = self._other(member)
        return (other.full_name or other.username) if other else ""

    @extend_schema_field(ChatUserPresenceSerializer(allow_null=True))
    def get_other_user(self, member):
        other = self._other(member)
        return ChatUserPresenceSerializer(other, context=self.context).data if other else None

    @extend_schema_field(ChatMessageSerializer(allow_null=True))
    def get_last_message(self, member):
        message = member.conversation.last_message
        return ChatMessageSerializer(message, context=self.context).data if message else None

    def to_representation(self, member):
        conversation = member.conversation
        other = self._other(member)
        message = conversation.last_message
        if conversation.kind == ConversationKind.GROUP:
            name = conversation.name
        else:
            name = (other.full_name or other.username) if other else ""
        return {
            "id": member.conversation_id,
            "kind": conversation.kind,
            "name": name,
            "other_user": _person_with_presence(other, self.context) if other else None,
            "member_count": conversation.member_count,
            "my_role": member.role,
            "unread_count": member.unread_count,
            "last_read_seq": member.last_read_seq,
            "last_seq": conversation.last_seq,
            "last_message": _message(message, self.context) if message else None,
            "last_activity_at": _when(member.last_activity_at),
        }


class ChatMemberSerializer(serializers.Serializer):
    user = serializers.SerializerMethodField()
    role = serializers.ChoiceField(choices=MemberRole.choices)
    joined_at = serializers.DateTimeField()

    @extend_schema_field(ChatUserPresenceSerializer)
    def get_user(self, member):
        return ChatUserPresenceSerializer(member.user, context=self.context).data


class ConversationDetailSerializer(ConversationSerializer):
    members = serializers.SerializerMethodField(help_text="成员（最多 200 人）")

    @extend_schema_field(ChatMemberSerializer(many=True))
    def get_members(self, member):
        return ChatMemberSerializer(self.context.get("members", []), many=True, context=self.context).data

    def to_representation(self, member):
        return {**super().to_representation(member), "members": self.get_members(member)}


# --- Input -----------------------------------------------------------------------------------


class DirectStartSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="对方的用户ID")


class GroupCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=MAX_MEMBER_IDS,
        help_text="初始成员（不含自己）；最多 200 人的群",
    )
    class_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="班级群：班级的学生、辅导员、班主任全部加入"
    )


class GroupUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class MemberAddSerializer(serializers.Serializer):
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=MAX_MEMBER_IDS
    )


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MemberRole.choices, help_text="admin 或 member（群主不可设置）")


class MessageSendSerializer(serializers.Serializer):
    """A message: JSON for text; ``multipart/form-data`` with ``file`` for a picture or a file."""

    message_type = serializers.ChoiceField(choices=MessageKind.choices, default=MessageKind.TEXT)
    message = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, help_text="文字内容（text 必填）"
    )
    file = serializers.FileField(required=False, allow_empty_file=True, help_text="picture、file 消息的文件")
    client_id = serializers.RegexField(
        r"^[A-Za-z0-9_.:-]{1,64}$",
        required=False,
        allow_blank=True,
        help_text="客户端为这次发送生成的标识（如 UUID）：网络重试时带同一个值，不会重复发送",
        error_messages={"invalid": "client_id 只能是 1～64 个字母、数字或 _ . : - 字符。"},
    )


class SendManySerializer(MessageSendSerializer):
    recipient_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=1000,
        help_text="接收者用户ID（seed 004 的 to_user，多个）",
    )

    def to_internal_value(self, data):
        # multipart: "recipient_ids=1&recipient_ids=2" or "recipient_ids=1,2"
        if hasattr(data, "getlist"):
            values = data.getlist("recipient_ids")
            if len(values) == 1 and "," in values[0]:
                values = [v for v in values[0].split(",") if v.strip()]
            data = {key: data.get(key) for key in data}
            data["recipient_ids"] = values
        return super().to_internal_value(data)


class SendResultSerializer(serializers.Serializer):
    recipient_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["delivered", "refused"])
    reason = serializers.CharField(
        allow_null=True, help_text="拒绝原因代码（如 blocked、conversation_not_allowed）"
    )
    message = serializers.CharField(allow_null=True, help_text="拒绝原因说明")
    conversation_id = serializers.IntegerField(allow_null=True)
    message_id = serializers.IntegerField(allow_null=True)


class ReadSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, required=False, help_text="看到的最后一条消息的 seq；缺省为全部已读"
    )


class ReadResultSerializer(serializers.Serializer):
    last_read_seq = serializers.IntegerField()
    unread_count = serializers.IntegerField()


class UnreadSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField(help_text="我所有会话的未读消息总数")


class ReportSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class EventsSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        allow_null=True, help_text="我的事件序号：下次请求作为 since 传回；null 表示暂不可用"
    )
    changed = serializers.BooleanField(help_text="自 since 以来有新事件（新消息、撤回、已读、成员变化）")
    unread_count = serializers.IntegerField()
    wait_seconds = serializers.IntegerField(help_text="服务器最多等待的秒数（0：请客户端自行定时轮询）")


class PingSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["online", "unknown"])
    online_seconds = serializers.IntegerField(
        help_text="在线状态保持的秒数：请在此之前再次心跳（建议每 60 秒）"
    )


class ChatMessagePageSerializer(serializers.Serializer):
    messages = ChatMessageSerializer(many=True)
    has_more = serializers.BooleanField(help_text="该方向上是否还有更多消息（请据此继续翻页）")
    oldest_seq = serializers.IntegerField(allow_null=True, help_text="本页最早一条的 seq：向前翻页传 before")
    newest_seq = serializers.IntegerField(allow_null=True, help_text="本页最新一条的 seq：追新传 after")
