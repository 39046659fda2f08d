"""Shapes of attachments, the hot list and templates (issue 20 items 4, 6, 8)."""

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from accounts.models import UserKind
from messaging.models import MessageAttachment, MessagePriority, MessageTemplate, MessageType

from .engagement_serializers import MessageCategoryBriefSerializer

MAX_ID = 2**63 - 1


class AttachmentSerializer(serializers.ModelSerializer):
    """A message's attachment: its name, size in bytes, type and download URL."""

    name = serializers.CharField(source="file_name", read_only=True, help_text="文件名（下载时的名称）")
    size = serializers.IntegerField(source="file_size", read_only=True, help_text="大小（字节）")
    type = serializers.CharField(source="content_type", read_only=True, help_text="按文件内容识别的类型")
    url = serializers.SerializerMethodField(help_text="下载地址（需登录；支持 Range、ETag）")

    class Meta:
        model = MessageAttachment
        fields = ("id", "name", "size", "type", "url")
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return reverse(
            "messaging:message-attachment-download",
            kwargs={"pk": obj.message_id, "attachment_id": obj.pk},
        )


class AttachmentUploadSerializer(serializers.Serializer):
    """``multipart/form-data`` with one or more ``files`` parts."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        min_length=1,
        max_length=settings.MESSAGING_ATTACHMENT_MAX_COUNT,
        help_text=f"附件（可多个，每条消息最多 {settings.MESSAGING_ATTACHMENT_MAX_COUNT} 个）",
    )


class HotQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False,
        default=7,
        min_value=1,
        max_value=settings.MESSAGING_HOT_MAX_DAYS,
        error_messages={
            "min_value": "days 至少为 1。",
            "max_value": f"days 不能超过 {settings.MESSAGING_HOT_MAX_DAYS}。",
            "invalid": "days 必须是整数。",
            "max_string_length": "days 必须是整数。",
        },
        help_text=f"统计窗口（天），1–{settings.MESSAGING_HOT_MAX_DAYS}，缺省 7",
    )


# --- Templates ---------------------------------------------------------------------------------


class TemplateSerializer(serializers.ModelSerializer):
    owner_id = serializers.IntegerField(read_only=True)
    category = MessageCategoryBriefSerializer(read_only=True, allow_null=True)
    placeholders = serializers.SerializerMethodField(help_text="模板中用到的占位符")

    class Meta:
        model = MessageTemplate
        fields = (
            "id",
            "name",
            "title",
            "content",
            "type",
            "priority",
            "category",
            "is_shared",
            "owner_id",
            "placeholders",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_placeholders(self, obj) -> list[str]:
        from messaging.templates_service import placeholders_in

        return placeholders_in(obj.title, obj.content)


class TemplateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    type = serializers.ChoiceField(choices=MessageType.choices, default=MessageType.NOTIFICATION)
    priority = serializers.ChoiceField(choices=MessagePriority.choices, default=MessagePriority.NORMAL)
    category_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    is_shared = serializers.BooleanField(required=False, default=False)


class TemplateUpdateSerializer(TemplateInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class FromMessageSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="要另存为模板的消息ID")
    name = serializers.CharField(max_length=100, required=False)


def _ids(help_text: str):
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=10000,
        help_text=help_text,
    )


class TemplateSendSerializer(serializers.Serializer):
    """Send a template to a new audience in one step (the same audience fields as a message)."""

    recipient_ids = _ids("接收者ID列表")
    department_ids = _ids("按系所发送")
    class_ids = _ids("按班级发送")
    group_ids = _ids("按分组发送")
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=UserKind.choices),
        required=False,
        max_length=len(UserKind.choices),
    )
    is_global = serializers.BooleanField(required=False, default=False)
    published_at = serializers.DateTimeField(required=False, allow_null=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
