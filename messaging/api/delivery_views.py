"""The delivery report of a message (issue 13): ``GET /api/v1/admin/messages/{id}/delivery``."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from messaging.delivery_report import message_delivery_report_for_sender
from wechathhu.api.renderers import EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped
from wechathhu.api.serializers import Serializer

from .views import ADMIN_TAGS, SenderAPIView


class ChannelFiguresSerializer(Serializer):  # fields built once per class
    channel = serializers.CharField(
        help_text="wechat 小程序订阅消息 · wechat_oa 公众号模板消息 · email 电子邮件"
    )
    label = serializers.CharField()
    total = serializers.IntegerField()
    queued = serializers.IntegerField(help_text="排队中（含免打扰时段暂缓、等待重试）")
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed_by_reason = serializers.DictField(child=serializers.IntegerField(), help_text="失败原因 → 人数")
    skipped_by_reason = serializers.DictField(child=serializers.IntegerField(), help_text="跳过原因 → 人数")
    waiting_by_reason = serializers.DictField(child=serializers.IntegerField(), help_text="暂缓原因 → 人数")


class MassSendSerializer(Serializer):  # fields built once per class
    total = serializers.IntegerField(allow_null=True)
    filtered = serializers.IntegerField(allow_null=True)
    sent = serializers.IntegerField(allow_null=True)
    error = serializers.IntegerField(allow_null=True)


class DeliveryReportSerializer(Serializer):  # fields built once per class
    message_id = serializers.IntegerField()
    audience_size = serializers.IntegerField(help_text="受众人数（全局消息为发布时的有效用户数）")
    read = serializers.IntegerField()
    read_rate = serializers.FloatField(allow_null=True, help_text="阅读率 = 已读 ÷ 受众（只看站内阅读）")
    reached = serializers.IntegerField(help_text="至少有一个渠道送达的接收者人数（首次推送）")
    failed = serializers.IntegerField()
    channels = ChannelFiguresSerializer(many=True, help_text="首次推送，按渠道")
    reminders = ChannelFiguresSerializer(many=True, help_text="未读再提醒，按渠道")
    mass_send = MassSendSerializer(allow_null=True, help_text="公众号群发的统计（如有）")


class AdminMessageDeliveryView(SenderAPIView):
    """消息的投递报告：受众人数、各渠道的排队/已发送/失败（按原因）/跳过（按原因）人数、已读人数与阅读率，
    以及公众号群发的统计。阅读率只按站内阅读计算，与投递状态无关。"""

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_delivery",
        responses={
            200: enveloped(DeliveryReportSerializer, name="DeliveryReportEnvelope"),
            **envelope_errors(401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        report = message_delivery_report_for_sender(user=request.user, message_id=pk)
        return EnvelopeResponse(DeliveryReportSerializer(report).data, message="获取投递报告成功")
