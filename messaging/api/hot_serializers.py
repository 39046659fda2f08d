"""The hot list's message shape: the user's message (seed 001) plus its heat."""

from rest_framework import serializers

from .serializers import UserMessageSerializer


class HotMessageSerializer(UserMessageSerializer):
    heat = serializers.IntegerField(read_only=True, help_text="热度：窗口内阅读数 + 评论数×3 + 投票数×2")
    reads_in_window = serializers.IntegerField(read_only=True, help_text="窗口内的阅读数")

    class Meta(UserMessageSerializer.Meta):
        fields = (*UserMessageSerializer.Meta.fields, "heat", "reads_in_window")
        read_only_fields = fields
