"""Input and output shapes of seed 001 (``MessageResponse`` and friends), field for field."""

import re
from datetime import date, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import PublicUserSerializer
from accounts.models import UserKind
from messaging.models import (
    CONTENT_MAX_LENGTH,
    REMIND_MAX_HOURS,
    Message,
    MessagePriority,
    MessageRecipient,
    MessageType,
)
from wechathhu.api.fields import PortalDateTimeField

from .content_serializers import AttachmentSerializer
from .discussion_serializers import (
    DISCUSSION_MESSAGE_FIELDS,
    MessageDiscussionFieldsMixin,
    PollInputSerializer,
)
from .engagement_serializers import MessageCategoryBriefSerializer

# Direct recipients per request (larger audiences: department_ids, class_ids, group_ids, kinds).
MAX_RECIPIENT_IDS = 10000
# Messages marked read or archived per request.
MAX_MESSAGE_IDS = 1000
MAX_ID = 2**63 - 1  # ids are BIGINT: a larger number is a 400, not a database error
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@extend_schema_field(OpenApiTypes.DATETIME)
class ExpiryField(PortalDateTimeField):
    """A datetime, or a date meaning the end of that day (23:59:59, Asia/Shanghai)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and DATE_ONLY.match(value.strip()):
            try:
                day = parse_date(value.strip())
            except ValueError:
                day = None
            if day is None:
                self.fail("invalid", format="YYYY-MM-DD 或 YYYY-MM-DDThh:mm:ss")
            return self.enforce_range(end_of_day(day))
        return super().to_internal_value(value)


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)), timezone.get_default_timezone())


def id_list(*, required=False, max_length=MAX_RECIPIENT_IDS, help_text=""):
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=required,
        allow_empty=not required,
        max_length=max_length,
        help_text=f"{help_text}（最多 {max_length} 个）",
    )


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": UserKind.values}})
class KindListField(serializers.ListField):
    """User kinds; documented inline so the schema keeps one ``KindEnum`` (the user's ``kind``)."""


SEED_MESSAGE_FIELDS = (
    "id",
    "title",
    "content",
    "type",
    "priority",
    "sender_id",
    "sender",
    "is_global",
    "expires_at",
    "published_at",
    "is_active",
    "is_expired",
    "is_published",
    "created_at",
    "updated_at",
)
# Added to every message shape (issue 20); seed 001's fields stay as they are.
ADDED_MESSAGE_FIELDS = ("category", *DISCUSSION_MESSAGE_FIELDS)
ADDED_MESSAGE_FIELDS += ("attachments",)  # item 4: listed with name, size, type and URL
# Added to the shapes a sender reads (the admin endpoints), not to the recipients' shapes.
SENDER_MESSAGE_FIELDS = ("remind_unread_after_hours",)


class MessageSerializer(MessageDiscussionFieldsMixin, serializers.ModelSerializer):
    """seed 001's ``MessageResponse`` (plus the added fields, ``ADDED_MESSAGE_FIELDS``)."""

    sender_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="发送者ID；系统消息为 null"
    )
    sender = PublicUserSerializer(read_only=True, allow_null=True)
    is_expired = serializers.BooleanField(read_only=True)
    is_published = serializers.BooleanField(read_only=True)
    category = MessageCategoryBriefSerializer(
        read_only=True, allow_null=True, help_text="扩展：消息分类；无分类为 null"
    )
    attachments = AttachmentSerializer(
        many=True, read_only=True, help_text="扩展：附件（名称、大小、类型、下载地址）"
    )

    class Meta:
        model = Message
        fields = (*SEED_MESSAGE_FIELDS, *ADDED_MESSAGE_FIELDS, *SENDER_MESSAGE_FIELDS)
        read_only_fields = fields


class UserMessageSerializer(MessageSerializer):
    """seed 001's ``UserMessageResponse``: the message with the signed-in user's state."""

    is_read = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(source="state_read_at", read_only=True, allow_null=True)
    is_archived = serializers.SerializerMethodField()
    archived_at = serializers.DateTimeField(source="state_archived_at", read_only=True, allow_null=True)

    class Meta(MessageSerializer.Meta):
        fields = (
            *SEED_MESSAGE_FIELDS[:-2],
            "is_read",
            "read_at",
            "is_archived",
            "archived_at",
            "created_at",
            "updated_at",
            *ADDED_MESSAGE_FIELDS,
        )
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # A message sent from a template with placeholders: the text filled for this recipient.
        if getattr(instance, "personal_title", None) is not None:
            data["title"] = instance.personal_title
            data["content"] = instance.personal_content
        return data

    def get_is_read(self, obj) -> bool:
        return obj.state_read_at is not None

    def get_is_archived(self, obj) -> bool:
        return obj.state_archived_at is not None


class MessageRecipientSerializer(serializers.ModelSerializer):
    """seed 001's ``MessageRecipientResponse``."""

    message_id = serializers.IntegerField(read_only=True)
    recipient_id = serializers.IntegerField(read_only=True)
    recipient = PublicUserSerializer(read_only=True)
    is_read = serializers.BooleanField(read_only=True)
    is_archived = serializers.BooleanField(read_only=True)

    class Meta:
        model = MessageRecipient
        fields = (
            "id",
            "message_id",
            "recipient_id",
            "recipient",
            "is_read",
            "read_at",
            "is_archived",
            "archived_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class MessageDetailSerializer(MessageSerializer):
    """seed 001's ``MessageDetailResponse``: the message with its recipients' state.

    For a global message the list holds the users who have read or archived it so far.
    """

    recipients = MessageRecipientSerializer(many=True, read_only=True, source="recipient_rows")

    class Meta(MessageSerializer.Meta):
        fields = (*MessageSerializer.Meta.fields, "recipients")
        read_only_fields = fields


class CategoryCountSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    count = serializers.IntegerField()
    unread_count = serializers.IntegerField()


class MessageStatsSerializer(serializers.Serializer):
    """seed 001's ``MessageStatsResponse``. ``total_count = read_count + unread_count``."""

    total_count = serializers.IntegerField()
    unread_count = serializers.IntegerField()
    read_count = serializers.IntegerField()
    archived_count = serializers.IntegerField()
    notification_count = serializers.IntegerField()
    announcement_count = serializers.IntegerField()
    reminder_count = serializers.IntegerField()
    approval_count = serializers.IntegerField()
    category_counts = CategoryCountSerializer(
        many=True, help_text="扩展：各分类的消息数和未读数（id 为 null 表示未分类）"
    )


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()


# --- Input --------------------------------------------------------------------------------------


class GlobalMessageInputSerializer(serializers.Serializer):
    """``POST /api/v1/admin/messages/global``."""

    title = serializers.CharField(max_length=200)
    content = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=CONTENT_MAX_LENGTH
    )
    type = serializers.ChoiceField(choices=MessageType.choices)
    priority = serializers.ChoiceField(choices=MessagePriority.choices)
    expires_at = ExpiryField(
        required=False,
        allow_null=True,
        help_text="过期时间；只给日期（如 2024-12-31）表示当天 23:59:59（北京时间）",
    )
    published_at = PortalDateTimeField(
        required=False, allow_null=True, help_text="发布时间；晚于现在则到时才对用户可见，缺省为现在"
    )
    category_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="扩展：消息分类ID"
    )
    comments_open = serializers.BooleanField(
        required=False, default=True, help_text="扩展：是否开放评论和私密提问，缺省开放"
    )
    poll = PollInputSerializer(required=False, allow_null=True, help_text="扩展：随消息发起投票")


def remind_field() -> serializers.IntegerField:
    """The read-aware reminder's hours, as the sender sets them on create and update."""
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=REMIND_MAX_HOURS,
        help_text=f"扩展：发布若干小时后（1–{REMIND_MAX_HOURS}），仅向仍未阅读的接收者再推送一次；仅定向消息",
    )


class MessageCreateInputSerializer(GlobalMessageInputSerializer):
    """``POST /api/v1/admin/messages``: recipients, audiences (extension), or ``is_global``."""

    recipient_ids = id_list(help_text="接收者ID列表")
    department_ids = id_list(help_text="扩展：按系所发送")
    class_ids = id_list(help_text="扩展：按班级发送")
    group_ids = id_list(help_text="扩展：按分组（班干部、学生会、协会……）发送")
    kinds = KindListField(
        child=serializers.ChoiceField(choices=UserKind.choices),
        required=False,
        max_length=len(UserKind.choices),
        help_text="扩展：按身份发送（teacher 教师 / student 学生 / staff 职工）",
    )
    is_global = serializers.BooleanField(required=False, default=False)
    remind_unread_after_hours = remind_field()


class MessageUpdateInputSerializer(serializers.Serializer):
    """``PUT /api/v1/admin/messages/{id}``: every field optional; absent fields are kept."""

    title = serializers.CharField(max_length=200, required=False)
    content = serializers.CharField(required=False, allow_blank=True, max_length=CONTENT_MAX_LENGTH)
    type = serializers.ChoiceField(choices=MessageType.choices, required=False)
    priority = serializers.ChoiceField(choices=MessagePriority.choices, required=False)
    is_active = serializers.BooleanField(required=False)
    expires_at = ExpiryField(
        required=False, allow_null=True, help_text="扩展：修改过期时间；null 表示永不过期"
    )
    published_at = PortalDateTimeField(required=False, help_text="扩展：修改发布时间")
    category_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="扩展：修改分类；null 表示无分类",
    )
    remind_unread_after_hours = remind_field()
    comments_open = serializers.BooleanField(required=False, help_text="扩展：开放或关闭评论和私密提问")


class RecipientsInputSerializer(serializers.Serializer):
    recipient_ids = id_list(required=True, help_text="接收者ID列表")


class MessageIdsInputSerializer(serializers.Serializer):
    message_ids = id_list(
        required=True, max_length=MAX_MESSAGE_IDS, help_text="消息ID列表；看不到的消息会被忽略"
    )
