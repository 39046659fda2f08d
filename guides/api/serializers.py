from rest_framework import serializers

from guides.models import Guide, GuideCategory
from wechathhu.api import serializers as api_serializers


class GuideCategorySerializer(api_serializers.ModelSerializer):
    class Meta:
        model = GuideCategory
        fields = ("id", "name")


class GuideSerializer(api_serializers.ModelSerializer):
    """A guide as the mini-program lists it (C23), plus its description, update time and file facts."""

    category = GuideCategorySerializer(read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)
    size = serializers.IntegerField(source="file_size", read_only=True, help_text="文件大小（字节）")

    class Meta:
        model = Guide
        fields = (
            "id",
            "name",
            "description",
            "category",
            "created",
            "updated",
            "file_name",
            "content_type",
            "size",
        )
        read_only_fields = fields
