"""The message center (seed 001): messages, per-user engagement state, per-channel delivery.

Two status axes (DESIGN.md):

* **Engagement** lives on ``MessageRecipient`` (``read_at``, ``archived_at``). A targeted message
  writes one row per resolved recipient when it is sent; a global message writes none, and a
  user's row is created the first time that user reads or archives it (fan-out on read).
* **Delivery** lives on ``MessageDelivery``: one row per (message, user, channel), with its
  status and the channel's error code. Read rate is computed from engagement only.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import CampusGroup, Department, SchoolClass
from wechathhu.core.models import TimestampedModel
from wechathhu.core.outbox import OutboxDelivery

from .content_models import CONTENT_MAX_LENGTH  # the longest message text (seed 001 names no limit)

# Categories, preferences, comments, attachments, polls, search, templates (issue 20).
from .engagement_models import *  # noqa: F403
from .engagement_models import Category

EXPIRES_AFTER_PUBLISH = _("过期时间必须晚于发布时间。")

REMIND_MAX_HOURS = 7 * 24


class MessageType(models.TextChoices):
    NOTIFICATION = "notification", _("通知")
    ANNOUNCEMENT = "announcement", _("公告")
    REMINDER = "reminder", _("提醒")
    APPROVAL = "approval", _("审批")


class MessagePriority(models.TextChoices):
    LOW = "low", _("低")
    NORMAL = "normal", _("普通")
    HIGH = "high", _("高")
    URGENT = "urgent", _("紧急")


class Message(TimestampedModel):
    """One message, targeted (recipient rows) or global (no rows until users act on it).

    ``audience_size`` is the denominator of the read rate: the number of recipient rows written
    at send time for a targeted message, the number of active users at publish time for a global
    one (set when the message is published, see ``services.message_publish``).
    """

    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(
        _("内容"),
        blank=True,
        max_length=CONTENT_MAX_LENGTH,
        validators=[MaxLengthValidator(CONTENT_MAX_LENGTH)],
    )
    type = models.CharField(
        _("类型"), max_length=16, choices=MessageType.choices, default=MessageType.NOTIFICATION
    )
    priority = models.CharField(
        _("优先级"), max_length=8, choices=MessagePriority.choices, default=MessagePriority.NORMAL
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发送者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_messages",
        help_text=_("为空表示系统消息"),
    )
    is_global = models.BooleanField(_("全局消息"), default=False)
    is_active = models.BooleanField(_("有效"), default=True, help_text=_("取消勾选即撤回"))
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )

    # The audience as the sender described it (the resolved set is the recipient rows).
    audience_departments = models.ManyToManyField(
        Department, verbose_name=_("目标系所"), blank=True, related_name="+"
    )
    audience_classes = models.ManyToManyField(
        SchoolClass, verbose_name=_("目标班级"), blank=True, related_name="+"
    )
    audience_groups = models.ManyToManyField(
        CampusGroup, verbose_name=_("目标分组"), blank=True, related_name="+"
    )
    audience_kinds = models.JSONField(_("目标身份"), default=list, blank=True)
    audience_user_ids = models.JSONField(
        _("直接指定的接收者"),
        default=list,
        blank=True,
        help_text=_("发送时直接指定的用户ID（复制消息时沿用）"),
    )
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收者"),
        through="MessageRecipient",
        related_name="received_messages",
        blank=True,
    )

    audience_size = models.PositiveIntegerField(_("受众人数"), default=0)
    # Marker column of the publishing step (messaging.publish_due): set once it has run.
    publish_processed_at = models.DateTimeField(_("发布处理时间"), null=True, blank=True)

    # A read-aware second push: after this many hours, to the recipients who have not read it.
    remind_unread_after_hours = models.PositiveSmallIntegerField(
        _("未读再提醒（小时）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(REMIND_MAX_HOURS)],
        help_text=_("发布若干小时后，仅向仍未阅读的接收者再推送一次（仅定向消息）"),
    )
    # When the reminder is due (publish time + the hours), and the marker of its step.
    remind_at = models.DateTimeField(_("再提醒时间"), null=True, blank=True, editable=False)
    reminder_processed_at = models.DateTimeField(_("再提醒处理时间"), null=True, blank=True, editable=False)

    # Comments and private questions (issue 20 item 3; ``messaging.comments``).
    comments_open = models.BooleanField(
        _("开放评论"), default=True, help_text=_("接收者可以评论，也可以向发送者私密提问")
    )
    # The visible public comments: a counter the comment service keeps with F() (no count query).
    comment_count = models.PositiveIntegerField(_("评论数"), default=0, editable=False)
    # The people who voted on its poll (issue 20 item 5): kept by ``polls.poll_vote`` under the
    # poll's lock; the hot list reads it (``messaging.hot``).
    vote_count = models.PositiveIntegerField(_("投票人数"), default=0, editable=False)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ("-published_at", "-id")
        permissions = [
            ("send", _("可以发送消息")),
            ("send_global", _("可以发送全局消息")),
        ]
        indexes = [
            # The global half of every inbox query: visible global messages, newest first.
            models.Index(fields=["is_global", "is_active", "published_at"], name="message_global_visible"),
            # The admin list of one sender, newest first.
            models.Index(fields=["sender", "published_at"], name="message_sender_published"),
            # The publishing step: due messages not yet processed.
            models.Index(fields=["publish_processed_at", "published_at"], name="message_publish_due"),
            # The reminder step: due reminders not yet processed.
            models.Index(fields=["reminder_processed_at", "remind_at"], name="message_remind_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("published_at")),
                name="message_expires_after_publish",
                violation_error_message=EXPIRES_AFTER_PUBLISH,
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        """The expiry rule on its field (``full_clean``: the services, the admin's form); the
        ``message_expires_after_publish`` constraint is the database's guard of the same rule."""
        super().clean()
        if (
            self.expires_at is not None
            and self.published_at is not None
            and self.expires_at <= self.published_at
        ):
            raise ValidationError({"expires_at": ValidationError(EXPIRES_AFTER_PUBLISH, code="invalid")})

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_published(self) -> bool:
        return self.published_at <= timezone.now()


class MessageRecipient(TimestampedModel):
    """A user's engagement with one message (seed 001's ``MessageRecipientResponse``).

    For a targeted message the row exists from send time (the user was addressed); for a global
    message it is created when the user first reads or archives it.
    """

    message = models.ForeignKey(
        Message, verbose_name=_("消息"), on_delete=models.CASCADE, related_name="recipients"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收者"),
        on_delete=models.CASCADE,
        related_name="message_states",
    )
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    # Not indexed, unlike TimestampedModel's: no query reads recipient rows by creation time, and
    # a 10 000-user send wrote 10 000 entries into that index too (issue 18: the send took about
    # twice as long with it, bench/README.md).
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("消息接收者")
        verbose_name_plural = _("消息接收者")
        ordering = ("id",)
        constraints = [
            # Recipient first: the index that drives every per-user query (inbox, counts).
            models.UniqueConstraint(fields=["recipient", "message"], name="message_recipient_unique"),
        ]
        indexes = [
            # Per-message read counts and the "who has not read" list.
            models.Index(fields=["message", "read_at"], name="message_recipient_read"),
        ]

    def __str__(self):
        return f"{self.message_id} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class DeliveryChannel(models.TextChoices):
    WECHAT = "wechat", _("小程序订阅消息")
    WECHAT_OA = "wechat_oa", _("公众号模板消息")
    EMAIL = "email", _("电子邮件")


# The outbox's rate-limit bucket of each channel.
CHANNEL_BUCKETS = {
    DeliveryChannel.WECHAT: "wechat_mp",
    DeliveryChannel.WECHAT_OA: "wechat_oa",
    DeliveryChannel.EMAIL: "email",
}


class DeliveryKind(models.TextChoices):
    INITIAL = "initial", _("首次推送")
    REMINDER = "reminder", _("未读再提醒")


class MessageDelivery(OutboxDelivery):
    """Delivery of one message to one user over one outside channel (the second status axis).

    An outbox row (``wechathhu.core.outbox``): written by the publishing step (and the reminder
    step, as ``kind`` reminder) per the delivery rules (``messaging.delivery``), sent after the
    commit, retried or failed with the channel's error code, never sent twice.
    """

    message = models.ForeignKey(
        Message, verbose_name=_("消息"), on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收者"),
        on_delete=models.CASCADE,
        related_name="message_deliveries",
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=DeliveryChannel.choices)
    kind = models.CharField(
        _("类型"), max_length=8, choices=DeliveryKind.choices, default=DeliveryKind.INITIAL
    )

    outbox_select_related = ("message__sender", "message__category", "recipient")
    outbox_at_most_once = True  # a push is never made twice (a dead worker's call: "interrupted")

    class Meta(OutboxDelivery.Meta):
        verbose_name = _("消息投递")
        verbose_name_plural = _("消息投递")
        ordering = ("id",)
        constraints = [
            *OutboxDelivery.Meta.constraints,
            models.UniqueConstraint(
                fields=["message", "recipient", "channel", "kind"], name="message_delivery_unique"
            ),
        ]
        indexes = [
            *OutboxDelivery.Meta.indexes,
            # The delivery report (messaging.delivery_report), read from the index alone: the counts
            # by channel, kind, status and reason, and the recipients reached (a message's first
            # pushes sent: a range of it, the recipient's id in it).
            models.Index(
                fields=["message", "kind", "status", "channel", "reason", "recipient"],
                name="message_delivery_report",
            ),
        ]

    def __str__(self):
        return f"{self.message_id} → {self.recipient_id} ({self.channel}: {self.status})"

    def get_outbox_channel(self) -> str:
        return CHANNEL_BUCKETS[self.channel]

    def outbox_send(self) -> None:
        from .delivery import delivery_send

        delivery_send(self)


# Attachments, the search index, templates and per-recipient text (issue 20 items 4, 6, 8); pushes
# that are not messages, the daily digest and its curated item.
from .content_models import *  # noqa: E402, F403
from .delivery_models import *  # noqa: E402, F403

# Comments, private questions and polls (issue 20 items 3 and 5).
from .discussion_models import *  # noqa: E402, F403
