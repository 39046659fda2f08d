"""Serializers of the mini-program's repair calls (C20–C22) and the reporter's follow-ups."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from repairs.models import FaultCategory, RepairPhoto, RepairRequest, RepairStatus
from repairs.services import reporter_actions
from repairs.validators import validate_photo_count
from wechathhu.api import serializers as api_serializers

# The client knows three integers (repair/my.js): 0 未受理, 1 处理中, 2 已解决. A closed request
# is a solved one the reporter confirmed, so it stays 2 there; ``status_display`` tells them apart.
CLIENT_STATUS = {
    RepairStatus.PENDING: 0,
    RepairStatus.PROCESSING: 1,
    RepairStatus.SOLVED: 2,
    RepairStatus.CLOSED: 2,
}
CLIENT_STATUS_HELP = "0 未受理，1 处理中，2 已解决（已关闭的报修也是 2，见 status_display）"


class CategorySerializer(api_serializers.ModelSerializer):
    class Meta:
        model = FaultCategory
        fields = ("id", "name")


class RepairCreateInputSerializer(serializers.Serializer):
    location = serializers.CharField(max_length=255)
    category = serializers.PrimaryKeyRelatedField(
        queryset=FaultCategory.objects.all(), allow_null=True, required=False, default=None
    )
    description = serializers.CharField(max_length=2000)
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        help_text="可选：照片（multipart 上传，可多张；仅限 JPEG/PNG/GIF/WebP，有大小限制）",
    )

    def validate_photos(self, photos):
        # Only the count here: each photo is decoded once, by the service (repair_request_create).
        try:
            validate_photo_count(len(photos))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from exc
        return photos


class ClientStatusMixin(serializers.Serializer):
    status = serializers.SerializerMethodField(help_text=CLIENT_STATUS_HELP)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    is_closed = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(min_value=0, max_value=2, help_text=CLIENT_STATUS_HELP))
    def get_status(self, obj) -> int:
        return CLIENT_STATUS[obj.status]

    def get_is_closed(self, obj) -> bool:
        return obj.status == RepairStatus.CLOSED


class RepairCreatedSerializer(ClientStatusMixin, serializers.ModelSerializer):
    """What ``POST /repairs/`` answers: the original's keys (``category`` as its id) and more."""

    created = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = RepairRequest
        fields = (
            "id",
            "user",
            "location",
            "category",
            "description",
            "status",
            "status_display",
            "is_closed",
            "created",
        )


class RepairListSerializer(ClientStatusMixin, serializers.ModelSerializer):
    category = CategorySerializer(allow_null=True, read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = RepairRequest
        fields = (
            "id",
            "user",
            "category",
            "location",
            "description",
            "status",
            "status_display",
            "is_closed",
            "rating",
            "created",
        )


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = RepairPhoto
        fields = ("id", "url", "content_type", "size")

    def get_url(self, obj) -> str:
        path = reverse("repairs:repair-photo", args=[obj.request_id, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class HistorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    from_status = serializers.CharField(help_text="pending/processing/solved/closed，或空")
    from_status_display = serializers.CharField(source="get_from_status_display")
    to_status = serializers.CharField(help_text="pending/processing/solved/closed，或空")
    to_status_display = serializers.CharField(source="get_to_status_display")
    content = serializers.CharField()
    actor_name = serializers.SerializerMethodField()
    created = serializers.DateTimeField(source="created_at")

    def get_actor_name(self, obj) -> str:
        if obj.actor is None:
            return "系统"
        return obj.actor.full_name or obj.actor.username


class RepairDetailSerializer(RepairListSerializer):
    assignee_name = serializers.SerializerMethodField()
    photos = PhotoSerializer(many=True, read_only=True)
    history = HistorySerializer(source="public_events", many=True, read_only=True)
    actions = serializers.SerializerMethodField(
        help_text="报修人现在可以做的操作：confirm、reopen、rate、cancel"
    )

    class Meta(RepairListSerializer.Meta):
        fields = (
            *RepairListSerializer.Meta.fields,
            "assignee_name",
            "solved_at",
            "closed_at",
            "rating_comment",
            "rated_at",
            "photos",
            "history",
            "actions",
        )

    def get_assignee_name(self, obj) -> str:
        if obj.assignee is None:
            return ""
        return obj.assignee.full_name or obj.assignee.username

    def get_actions(self, obj) -> list[str]:
        return reporter_actions(repair=obj)


class RatingInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ConfirmInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True, default=None)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReopenInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="仍未解决的问题")
