"""Delivery of messages over outside channels (the second status axis), on the shared outbox.

The publishing step writes one ``MessageDelivery`` row per (recipient, channel) in its own
transaction; the outbox sends them after the commit (``wechathhu.core.outbox``).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from wechathhu.core import outbox
from wechathhu.integrations import wechat

from .models import DeliveryChannel, Message, MessageDelivery, MessagePriority, MessageRecipient

PRIORITY_RANK = {p: i for i, p in enumerate(MessagePriority.values)}
THING_LIMIT = 20  # WeChat refuses longer ``thing`` values (errcode 47003)


def wechat_delivery_enabled() -> bool:
    return bool(settings.WECHAT_ENABLED and settings.MESSAGING_WECHAT_TEMPLATE_ID)


def deliveries_queue_for_message(*, message: Message) -> int:
    """Queue one WeChat delivery per addressed user with a bound WeChat (targeted messages of at
    least ``MESSAGING_WECHAT_MIN_PRIORITY``), sent after commit. Returns rows queued.

    Must run in the publishing transaction. Global messages are not pushed: they would need a
    row per user, which fan-out on read avoids.
    """
    minimum = PRIORITY_RANK.get(settings.MESSAGING_WECHAT_MIN_PRIORITY, PRIORITY_RANK["high"])
    if message.is_global or not wechat_delivery_enabled() or PRIORITY_RANK[message.priority] < minimum:
        return 0
    user_ids = list(
        MessageRecipient.objects.filter(message=message, recipient__wechat_openid__isnull=False)
        .exclude(recipient__wechat_openid="")
        .values_list("recipient_id", flat=True)
    )
    if not user_ids:
        return 0
    MessageDelivery.objects.bulk_create(
        [
            MessageDelivery(message=message, recipient_id=pk, channel=DeliveryChannel.WECHAT)
            for pk in user_ids
        ],
        batch_size=settings.MESSAGING_RECIPIENT_BATCH_SIZE,
        ignore_conflicts=True,
    )
    # Read back: MySQL (unlike MariaDB and SQLite) returns no ids from a bulk insert.
    ids = list(
        MessageDelivery.objects.filter(message=message, status=outbox.DeliveryStatus.QUEUED).values_list(
            "pk", flat=True
        )
    )
    outbox.enqueue_on_commit(MessageDelivery, ids)
    return len(user_ids)


def _subscribe_data(message: Message) -> dict[str, str]:
    values = {
        "title": message.title,
        "content": message.content or message.title,
        "type": message.get_type_display(),
        "priority": message.get_priority_display(),
        "sender": (message.sender.full_name or message.sender.username) if message.sender else "系统",
        "published_at": timezone.localtime(message.published_at).strftime("%Y-%m-%d %H:%M"),
    }
    data = {}
    for key, source in settings.MESSAGING_WECHAT_TEMPLATE_FIELDS.items():
        value = values.get(source, "")
        if key.startswith("thing") and len(value) > THING_LIMIT:
            value = value[: THING_LIMIT - 1] + "…"
        data[key] = value
    return data


def delivery_send(delivery: MessageDelivery) -> None:
    """The outbox's send of one delivery: one subscribe message to one user (or a skip)."""
    message = delivery.message
    if not message.is_active:
        raise outbox.Skip("消息已撤回，未发送。", reason="withdrawn")
    if message.is_expired:
        raise outbox.Skip("消息已过期，未发送。", reason="expired")
    openid = delivery.recipient.wechat_openid
    if not openid:
        raise outbox.Skip("接收者已解除微信绑定。", reason="not_bound")
    wechat.send_subscribe_message(
        openid=openid,
        template_id=settings.MESSAGING_WECHAT_TEMPLATE_ID,
        data=_subscribe_data(message),
        page=settings.MESSAGING_WECHAT_PAGE.format(id=message.pk),
    )
