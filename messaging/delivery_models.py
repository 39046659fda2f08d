"""Outside deliveries that are not a message to its recipients (issue 13).

* ``PushDelivery``: a push about something else (a new conversation message, a comment notice …)
  to one user over one channel, chosen by the same delivery rules as messages
  (``messaging.delivery.notify_user``); its idempotency key coalesces bursts.
* ``DigestItem`` and ``DigestDelivery``: the daily digest (每日播报) — the day's curated item, and
  one digest per subscriber per day, built when it is sent.

``messaging.models`` imports every model here (at its end), so they are the app's models.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel
from wechathhu.core.outbox import OutboxDelivery

from .models import CHANNEL_BUCKETS, DeliveryChannel

__all__ = ["DigestDelivery", "DigestItem", "DigestItemKind", "PushDelivery"]


class PushDelivery(OutboxDelivery):
    """One push (title, text, link) to one user over one channel, for senders that are not messages."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收者"), on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=DeliveryChannel.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.CharField(_("内容"), max_length=1000, blank=True)
    url = models.CharField(
        _("链接"), max_length=500, blank=True, help_text=_("站内路径，如 /m/conversations/1/")
    )

    outbox_select_related = ("recipient",)
    outbox_at_most_once = True  # a push is never made twice (a dead worker's call: "interrupted")

    class Meta(OutboxDelivery.Meta):
        verbose_name = _("推送")
        verbose_name_plural = _("推送")
        ordering = ("-id",)

    def __str__(self):
        return f"{self.title} → {self.recipient_id} ({self.channel})"

    def get_outbox_channel(self) -> str:
        return CHANNEL_BUCKETS[self.channel]

    def outbox_send(self) -> None:
        from .delivery import push_send

        push_send(self)


class DigestItemKind(models.TextChoices):
    ARTICLE = "article", _("文章")
    SONG = "song", _("歌曲")
    NOTICE = "notice", _("通知")


class DigestItem(TimestampedModel):
    """The day's item staff curate for the daily digest (an article, a song, a notice)."""

    date = models.DateField(_("日期"), unique=True, help_text=_("北京时间的这一天的每日播报带上它"))
    kind = models.CharField(
        _("类型"), max_length=8, choices=DigestItemKind.choices, default=DigestItemKind.ARTICLE
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])
    link = models.URLField(_("链接"), blank=True)

    class Meta:
        verbose_name = _("每日播报内容")
        verbose_name_plural = _("每日播报内容")
        ordering = ("-date",)

    def __str__(self):
        return f"{self.date} {self.title}"


class DigestDelivery(OutboxDelivery):
    """One subscriber's digest of one (local) day over one channel; its content is built when it
    is sent (the unread titles, the day's bookings and activities, the curated item)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField(_("日期"))
    channel = models.CharField(_("渠道"), max_length=16, choices=DeliveryChannel.choices)

    outbox_select_related = ("user",)
    outbox_at_most_once = True  # a push is never made twice (a dead worker's call: "interrupted")
    outbox_task_batch = 500  # a minute may hold every subscriber: 10 tasks for 5 000, not 100

    class Meta(OutboxDelivery.Meta):
        verbose_name = _("每日播报投递")
        verbose_name_plural = _("每日播报投递")
        ordering = ("-date", "id")
        constraints = [
            *OutboxDelivery.Meta.constraints,
            models.UniqueConstraint(fields=["user", "date"], name="digest_delivery_once_a_day"),
        ]

    def __str__(self):
        return f"{self.date} → {self.user_id} ({self.channel})"

    def get_outbox_channel(self) -> str:
        return CHANNEL_BUCKETS[self.channel]

    def outbox_send(self) -> None:
        from .digest import digest_send

        digest_send(self)
