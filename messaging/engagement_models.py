"""How messages are organised and answered, and what each reader wants (issue 20).

Kept apart from ``messaging.models`` (messages, recipient state, delivery) so the two grow without
stepping on each other; ``messaging.models`` imports every model defined here, so they are the app's
models like any other. Relations to ``Message`` are by name ("messaging.Message").

* ``Category``: 教务, 科研, 学工 … staff-managed, ordered, with an icon and a colour; a message may
  have one.
* ``DeliveryPreference``: one row per user, created the first time they change anything (a user
  without a row has the defaults): quiet hours, preferred outside channel, the daily digest and the
  categories they do not follow (so a new category is followed by everyone).
"""

from datetime import time

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel

__all__ = ["DEFAULT_DIGEST_TIME", "Category", "DeliveryPreference", "PreferredChannel"]

colour_validator = RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("颜色格式应为 #RRGGBB，如 #1677FF。"))


class Category(TimestampedModel):
    """A message category (教务, 科研, 学工, 后勤, 党团, 就业 …), in the order staff give it."""

    name = models.CharField(_("名称"), max_length=20, unique=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0, help_text=_("数字小的排在前面"))
    icon = models.CharField(
        _("图标"), max_length=32, blank=True, help_text=_("一个表情符号或图标名，如 📚 或 book")
    )
    colour = models.CharField(
        _("颜色"), max_length=7, default="#1677FF", validators=[colour_validator], help_text=_("#RRGGBB")
    )
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("停用后不能再选，已有消息保留分类"))

    class Meta:
        verbose_name = _("消息分类")
        verbose_name_plural = _("消息分类")
        ordering = ("position", "id")

    def __str__(self):
        return self.name


class PreferredChannel(models.TextChoices):
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("电子邮件")


DEFAULT_DIGEST_TIME = time(7, 30)


class DeliveryPreference(TimestampedModel):
    """What one user wants pushed outside the portal, and when (in-app is always on).

    Quiet hours are local (Beijing) times and may wrap past midnight (22:00–07:00); both empty
    means none. ``muted_categories`` are the categories the user does NOT follow, so a category
    created later is followed by default. Urgent messages ignore both (the delivery rules decide).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="delivery_preference",
    )
    quiet_hours_start = models.TimeField(_("免打扰开始"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("免打扰结束"), null=True, blank=True)
    preferred_channel = models.CharField(
        _("首选推送渠道"), max_length=8, choices=PreferredChannel.choices, default=PreferredChannel.WECHAT
    )
    digest_enabled = models.BooleanField(_("每日摘要"), default=False)
    digest_time = models.TimeField(_("摘要时间"), default=DEFAULT_DIGEST_TIME)
    muted_categories = models.ManyToManyField(
        Category, verbose_name=_("不关注的分类"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("推送偏好")
        verbose_name_plural = _("推送偏好")
        indexes = [
            # The daily digest's beat job: this minute's subscribers (messaging.digest).
            models.Index(fields=["digest_enabled", "digest_time"], name="delivery_pref_digest_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(quiet_hours_start__isnull=True) & Q(quiet_hours_end__isnull=True))
                | (
                    Q(quiet_hours_start__isnull=False)
                    & Q(quiet_hours_end__isnull=False)
                    & ~Q(quiet_hours_start=models.F("quiet_hours_end"))
                ),
                name="delivery_preference_quiet_hours",
                violation_error_message=_("免打扰时段的开始和结束须同时填写，且不能相同。"),
            ),
        ]

    def __str__(self):
        return f"{self.user_id} 的推送偏好"
