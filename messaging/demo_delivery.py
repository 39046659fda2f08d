"""Demo data of the delivery rules (issue 13): WeChat-bound users, a message whose delivery
report is finished (sent, refused with WeChat's reasons, unreachable), preferences with quiet
hours, digest subscribers and today's digest item. Running it again adds nothing."""

from datetime import time, timedelta

from django.utils import timezone

from accounts.demo import ADMIN_USERNAME, DEMO_STUDENT, DEMO_TEACHER
from accounts.models import User
from wechathhu.core.outbox import DeliveryStatus

from .models import (
    DeliveryChannel,
    DeliveryPreference,
    DigestItem,
    Message,
    MessageDelivery,
    MessagePriority,
    MessageRecipient,
    MessageType,
)

REPORT_TITLE = "期末监考安排（投递报告示例）"


def seed(out) -> list[str]:
    if Message.objects.filter(title=REPORT_TITLE).exists():
        return []
    now = timezone.now()
    staff = User.objects.filter(username=ADMIN_USERNAME).first()
    teachers = list(User.objects.filter(is_active=True, kind="teacher").order_by("pk"))
    if staff is None or not teachers:
        return []
    # Every other teacher has the mini-program bound; the demo teacher too.
    bound = [u for i, u in enumerate(teachers) if i % 2 == 0]
    for user in bound:
        user.wechat_openid = f"demo-openid-{user.username}"
    User.objects.bulk_update(bound, ["wechat_openid"])
    for username in (DEMO_TEACHER, DEMO_STUDENT):
        User.objects.filter(username=username, wechat_openid__isnull=True).update(
            wechat_openid=f"demo-openid-{username}"
        )

    published = now - timedelta(hours=20)
    message = Message.objects.create(
        title=REPORT_TITLE,
        content="请各位监考老师于考前 30 分钟到教务办领取试卷。",
        type=MessageType.NOTIFICATION,
        priority=MessagePriority.HIGH,
        sender=staff,
        published_at=published,
        publish_processed_at=published,
        audience_size=len(teachers),
        audience_kinds=["teacher"],
    )
    MessageRecipient.objects.bulk_create(
        [
            MessageRecipient(
                message=message, recipient=u, read_at=published + timedelta(minutes=5 * i) if i % 3 else None
            )
            for i, u in enumerate(teachers)
        ]
    )
    rows = []
    for i, user in enumerate(teachers):
        if user in bound:
            channel = DeliveryChannel.WECHAT
            if i % 8 == 4:  # refused by WeChat: no subscription left
                state = {
                    "status": DeliveryStatus.FAILED,
                    "reason": "no_consent",
                    "error_code": 43101,
                    "last_error": "user refuse to accept the msg",
                    "attempts": 1,
                }
            else:
                state = {
                    "status": DeliveryStatus.SENT,
                    "sent_at": published + timedelta(seconds=2),
                    "attempts": 1,
                }
        elif user.email and i % 3 != 1:
            channel = DeliveryChannel.EMAIL
            state = {
                "status": DeliveryStatus.SENT,
                "sent_at": published + timedelta(seconds=3),
                "attempts": 1,
            }
        else:
            channel = DeliveryChannel.WECHAT
            state = {
                "status": DeliveryStatus.SKIPPED,
                "reason": "not_bound",
                "last_error": "未绑定任何推送渠道（小程序、公众号或邮箱）。",
            }
        rows.append(
            MessageDelivery(message=message, recipient=user, channel=channel, next_attempt_at=None, **state)
        )
    MessageDelivery.objects.bulk_create(rows)

    for username, quiet in ((DEMO_TEACHER, (time(22), time(7))), (DEMO_STUDENT, None)):
        user = User.objects.get(username=username)
        preference, _ = DeliveryPreference.objects.get_or_create(user=user)
        preference.digest_enabled, preference.digest_time = True, time(7, 30)
        if quiet:
            preference.quiet_hours_start, preference.quiet_hours_end = quiet
        preference.save()
    DigestItem.objects.get_or_create(
        date=timezone.localdate(),
        defaults={
            "kind": "article",
            "title": "如何高效使用校园门户",
            "body": "消息、会话、会议室、活动与报修，一站办理。",
        },
    )
    return [f"  投递：{len(rows)} 条投递记录（消息「{REPORT_TITLE}」的投递报告），2 位每日播报订阅者"]
