"""Input and output shapes of the mini-program's activity calls (original-system §2.2, §3.2)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from activities import form_schema
from activities.models import Activity, ClockinItem, Enrollment, EnrollmentStatus
from activities.selectors import STATE_LABELS, activity_state
from wechathhu.api import serializers as api_serializers


class ActivityListFilterSerializer(serializers.Serializer):
    my = serializers.ChoiceField(
        choices=["yes", "no"],
        required=False,
        allow_blank=True,
        help_text="yes：只看我报名（含候补）的活动",
        error_messages={"invalid_choice": "my 只能是 yes 或 no。"},
    )
    search = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="按名称搜索")


class ActivitySerializer(api_serializers.ModelSerializer):
    """One activity as the client reads it; ``form_metas`` is a JSON **string** (the contract)."""

    enrollment_count = serializers.IntegerField(read_only=True, help_text="已报名人数（不含候补）")
    waiting_count = serializers.IntegerField(read_only=True, help_text="候补人数")
    my_enrollment_count = serializers.SerializerMethodField(help_text="我是否已报名（含候补）：0 或 1")
    my_enrollment_status = serializers.CharField(
        read_only=True, allow_null=True, help_text="enrolled 已报名 / waiting 候补中 / null 未报名"
    )
    my_enrollment_id = serializers.IntegerField(read_only=True, allow_null=True)
    state = serializers.SerializerMethodField(
        help_text="enrolling / full / not_started / enrollment_closed / closed / ended"
    )
    state_display = serializers.SerializerMethodField()
    in_progress = serializers.SerializerMethodField(help_text="活动正在进行")
    form_metas = serializers.SerializerMethodField(
        help_text="报名表单（JSON 字符串）。字段类型只有 text、number、textarea、radio、checkbox；"
        "日期、电话、邮箱为 text 并以 format（date / phone / email）注明，校验按其 format 进行"
    )

    class Meta:
        model = Activity
        fields = (
            "id",
            "name",
            "time_start",
            "time_end",
            "location",
            "latitude",
            "longitude",
            "geofence_radius",
            "description",
            "form_metas",
            "open_for_enrollment",
            "enroll_from",
            "enroll_until",
            "participants_total_limit",
            "waiting_list_enabled",
            "enrollment_count",
            "waiting_count",
            "my_enrollment_count",
            "my_enrollment_status",
            "my_enrollment_id",
            "state",
            "state_display",
            "in_progress",
        )
        read_only_fields = fields

    def _now(self):
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_my_enrollment_count(self, obj) -> int:
        return 1 if obj.my_enrollment_status else 0

    def get_form_metas(self, obj) -> str:
        return form_schema.form_schema_for_client(obj.form_metas)

    def get_state(self, obj) -> str:
        return activity_state(obj, now=self._now())

    def get_state_display(self, obj) -> str:
        return STATE_LABELS[activity_state(obj, now=self._now())]

    def get_in_progress(self, obj) -> bool:
        return obj.time_start <= self._now() < obj.time_end


class ActivityListSerializer(ActivitySerializer):
    class Meta(ActivitySerializer.Meta):
        fields = tuple(f for f in ActivitySerializer.Meta.fields if f != "form_metas")
        read_only_fields = fields


@extend_schema_field(
    {
        "oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}],
        "description": "报名表单的回答：JSON 字符串（小程序）或 JSON 对象",
    }
)
class AnswersField(serializers.Field):
    default_error_messages = {"invalid": "报名失败：报名表单不合法。", "blank_answers": "该字段不能为空。"}

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not data.strip():
                self.fail("blank_answers")
            return data
        if isinstance(data, dict):
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


class EnrollmentCreateSerializer(serializers.Serializer):
    activity = serializers.PrimaryKeyRelatedField(queryset=Activity.objects.all())
    participating_metas = AnswersField()
    join_waiting_list = serializers.BooleanField(
        required=False, default=False, help_text="名额已满时加入候补名单（活动须启用候补）"
    )


class EnrollmentSerializer(serializers.ModelSerializer):
    """An enrollment; ``participating_metas`` is the cleaned answers as a JSON string."""

    enroll_time = serializers.DateTimeField(source="created_at", read_only=True)
    status = serializers.CharField(read_only=True, help_text="enrolled 已报名 / waiting 候补中")
    waiting_position = serializers.SerializerMethodField(help_text="候补时的位次（从 1 起），否则为 null")

    class Meta:
        model = Enrollment
        fields = (
            "id",
            "enroll_time",
            "activity",
            "user",
            "participating_metas",
            "status",
            "waiting_position",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_waiting_position(self, obj):
        if obj.status != EnrollmentStatus.WAITING:
            return None
        return getattr(obj, "waiting_position", None)


class ClockinItemSerializer(serializers.ModelSerializer):
    is_clockin = serializers.BooleanField(read_only=True, help_text="我是否已打卡")
    kind = serializers.CharField(read_only=True, help_text="check_in 签到 / check_out 签退 / other 其他")
    clocked_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="我的打卡时间")

    class Meta:
        model = ClockinItem
        fields = ("id", "label", "kind", "from_time", "to_time", "is_clockin", "clocked_at")
        read_only_fields = fields


class ClockinScanSerializer(serializers.Serializer):
    key = serializers.CharField(
        max_length=300, trim_whitespace=True, help_text="扫码得到的原始文本（打卡码本身，或二维码中的网址）"
    )
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)


class ClockinResultSerializer(serializers.Serializer):
    label = serializers.CharField()
    activity_name = serializers.CharField()
    clocked_at = serializers.DateTimeField()
    already_clocked_in = serializers.BooleanField(
        help_text="true：此前已打过卡（重复扫码或重试），未新增记录"
    )
    detail = serializers.CharField(required=False, help_text="重复打卡时的说明")


class ClockinCodeSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="二维码文本（小程序用它生成二维码）")
    url = serializers.CharField(
        help_text="二维码的网址形式：任何手机相机扫码即打开手机门户打卡（小程序扫码同样有效）"
    )
    short_code = serializers.CharField(help_text="六位打卡码，与二维码同时刷新（无相机时在手机门户输入）")
    label = serializers.CharField()
    activity_name = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="距下一次刷新的秒数")
    step_seconds = serializers.IntegerField()
