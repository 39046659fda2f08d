"""Meeting rooms, their bookings and recurring series.

No double booking is enforced by ``reservations.services`` (the room row is locked and overlap
checked in one transaction); the database guards ``reserve_from < reserve_to``.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel


class Meetingroom(TimestampedModel):
    """A bookable room. ``bookable_from``/``bookable_to`` (local time) limit the hours when set."""

    name = models.CharField(_("名称"), max_length=64, unique=True)
    location = models.CharField(
        _("位置"), max_length=128, blank=True, help_text=_("楼宇与楼层，如 勤学楼 4 楼")
    )
    label = models.CharField(_("类型"), max_length=32, blank=True, help_text=_("如 研讨室、会议室、报告厅"))
    seats_count = models.PositiveIntegerField(_("座位数"), validators=[MinValueValidator(1)])
    equipment = models.CharField(
        _("设备"), max_length=255, blank=True, help_text=_("如 投影仪、视频会议终端")
    )
    description = models.TextField(
        _("说明"), blank=True, max_length=2000, validators=[MaxLengthValidator(2000)]
    )
    bookable_from = models.TimeField(_("每日可预约起始"), null=True, blank=True)
    bookable_to = models.TimeField(_("每日可预约截止"), null=True, blank=True)
    is_active = models.BooleanField(_("开放预约"), default=True)

    class Meta:
        verbose_name = _("会议室")
        verbose_name_plural = _("会议室")
        ordering = ("seats_count", "name", "id")
        indexes = [models.Index(fields=["is_active", "seats_count"], name="meetingroom_active_seats")]
        constraints = [
            models.CheckConstraint(condition=Q(seats_count__gte=1), name="meetingroom_seats_positive"),
            models.CheckConstraint(
                condition=Q(bookable_from__isnull=True, bookable_to__isnull=True)
                | Q(
                    bookable_from__isnull=False, bookable_to__isnull=False, bookable_from__lt=F("bookable_to")
                ),
                name="meetingroom_bookable_hours_valid",
                violation_error_message=_("可预约时段须同时填写起止时间，且起始早于截止。"),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def has_bookable_hours(self) -> bool:
        return self.bookable_from is not None and self.bookable_to is not None


class SeriesFrequency(models.TextChoices):
    DAILY = "daily", _("每天")
    WEEKLY = "weekly", _("每周")


class ReservationSeries(TimestampedModel):
    """A recurring booking: the rule it was made from; its occurrences are ``Reservation`` rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预约者"),
        on_delete=models.CASCADE,
        related_name="reservation_series",
    )
    meetingroom = models.ForeignKey(
        Meetingroom, verbose_name=_("会议室"), on_delete=models.CASCADE, related_name="series"
    )
    description = models.TextField(_("预约原因"), max_length=2000, validators=[MaxLengthValidator(2000)])
    frequency = models.CharField(_("重复方式"), max_length=8, choices=SeriesFrequency.choices)
    weekdays = models.CharField(
        _("星期"), max_length=13, blank=True, help_text=_("每周重复时的星期几，1=周一 … 7=周日，逗号分隔")
    )
    start_date = models.DateField(_("首次日期"))
    until = models.DateField(_("截止日期"), null=True, blank=True)
    count = models.PositiveSmallIntegerField(_("次数"), null=True, blank=True)
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))

    class Meta:
        verbose_name = _("重复预约")
        verbose_name_plural = _("重复预约")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="reservation_series_time_order"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=False) | Q(count__isnull=False), name="reservation_series_bounded"
            ),
        ]

    def __str__(self):
        return f"{self.meetingroom} · {self.get_frequency_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    @property
    def weekday_list(self) -> list[int]:
        return [int(d) for d in self.weekdays.split(",") if d]


class Reservation(TimestampedModel):
    """One booking of one room for ``[reserve_from, reserve_to)`` (back-to-back is allowed)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预约者"),
        on_delete=models.CASCADE,
        related_name="reservations",
    )
    meetingroom = models.ForeignKey(
        Meetingroom, verbose_name=_("会议室"), on_delete=models.CASCADE, related_name="reservations"
    )
    reserve_from = models.DateTimeField(_("开始时间"))
    reserve_to = models.DateTimeField(_("结束时间"))
    description = models.TextField(_("预约原因"), max_length=2000, validators=[MaxLengthValidator(2000)])
    series = models.ForeignKey(
        ReservationSeries,
        verbose_name=_("重复预约"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="occurrences",
    )
    # Marker of the reminder task: set in the transaction that sends the reminder.
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("预约记录")
        verbose_name_plural = _("预约记录")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["meetingroom", "reserve_from", "reserve_to"], name="reservation_room_time"),
            models.Index(fields=["user", "reserve_to"], name="reservation_user_upcoming"),
            models.Index(fields=["reserve_from", "reminded_at"], name="reservation_reminder_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reserve_from__lt=F("reserve_to")),
                name="reservation_from_before_to",
                violation_error_message=_("开始时间必须早于结束时间。"),
            )
        ]

    def __str__(self):
        return f"{self.meetingroom} {timezone.localtime(self.reserve_from):%Y-%m-%d %H:%M}"
