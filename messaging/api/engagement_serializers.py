"""Shapes of the message center's additions (issue 20): categories, preferences, ….

Added to seed 001's shapes, never replacing a field of them.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.audiences import AUDIENCE_TYPE_CHOICES
from messaging.models import Category, PreferredChannel

MAX_ID = 2**63 - 1
MAX_CATEGORY_IDS = 200


class MessageCategoryBriefSerializer(serializers.ModelSerializer):
    """A message's category, as every message shape carries it (``null`` when it has none)."""

    class Meta:
        model = Category
        fields = ("id", "name", "icon", "colour")
        read_only_fields = fields


class MessageCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ("id", "name", "icon", "colour", "position")
        read_only_fields = fields


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "22:00"})
class HourMinuteField(serializers.TimeField):
    """``HH:MM`` (24-hour, Beijing time) in and out."""

    default_error_messages = {"invalid": "时间格式应为 HH:MM（24 小时制），如 22:00。"}

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or len(value) > 5:
            self.fail("invalid")
        return super().to_internal_value(value)


class PreferenceCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    icon = serializers.CharField()
    colour = serializers.CharField()
    followed = serializers.BooleanField(help_text="是否推送该分类的消息到微信（站内消息总会显示）")


class PreferencesSerializer(serializers.Serializer):
    """``GET /api/v1/messages/preferences``."""

    quiet_hours_start = HourMinuteField(
        allow_null=True, help_text="免打扰开始（北京时间 HH:MM），null 表示无"
    )
    quiet_hours_end = HourMinuteField(
        allow_null=True, help_text="免打扰结束（HH:MM）；早于开始表示跨越午夜，如 22:00–07:00"
    )
    preferred_channel = serializers.ChoiceField(choices=PreferredChannel.choices)
    digest_enabled = serializers.BooleanField(help_text="每日摘要：把未读消息汇总为一条推送")
    digest_time = HourMinuteField(help_text="每日摘要的推送时间（HH:MM）")
    muted_category_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="不关注（不推送）的分类ID；新分类默认关注"
    )
    categories = PreferenceCategorySerializer(many=True, help_text="所有启用的分类及是否关注")
    urgent_always_pushed = serializers.BooleanField(
        help_text="紧急消息总会推送（不受分类关注和免打扰时段限制）"
    )


class PreferencesInputSerializer(serializers.Serializer):
    """``PUT /api/v1/messages/preferences``: any subset; absent fields are kept."""

    quiet_hours_start = HourMinuteField(required=False, allow_null=True)
    quiet_hours_end = HourMinuteField(required=False, allow_null=True)
    preferred_channel = serializers.ChoiceField(
        choices=PreferredChannel.choices,
        required=False,
        error_messages={"invalid_choice": "“{input}” 不是合法的推送渠道（wechat 或 email）。"},
    )
    digest_enabled = serializers.BooleanField(required=False)
    digest_time = HourMinuteField(required=False)
    muted_category_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_CATEGORY_IDS,
        help_text="不关注的分类ID（整体替换）；[] 表示关注全部",
    )


class AudienceOptionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=AUDIENCE_TYPE_CHOICES,
        help_text="department → `department_ids`，class → `class_ids`，group → `group_ids`，user → `recipient_ids`",
    )
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="可收到消息的（已启用）用户数")


class AudienceQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=AUDIENCE_TYPE_CHOICES,
        required=False,
        error_messages={"invalid_choice": "“{input}” 不是合法的类型（department、class、group 或 user）。"},
    )
    search = serializers.CharField(required=False, allow_blank=True, max_length=50)
