"""Activities (活动), their enrollment forms (报名表单), clock-in items (打卡项) and records.

Design notes:

* ``Activity.form_metas`` keeps the enrollment form as JSON **text**, exactly as the mini-program
  receives it: the order of the keys is the order of the fields, and a native JSON column (MySQL 8)
  would re-order them. It is validated by ``activities.form_schema.form_schema_validate`` on every save
  through the services and the admin.
* A clock-in item needs no stored key: the QR code is an HMAC over (item, time step), see
  ``activities.qr``.
* One clock-in per user per item and one enrollment per user per activity are database constraints.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel

from .filterlang import validate_label


class Activity(TimestampedModel):
    """活动: something people enroll in and clock in to."""

    name = models.CharField(_("活动名称"), max_length=100)
    description = models.TextField(
        _("活动简介"), blank=True, max_length=5000, validators=[MaxLengthValidator(5000)]
    )
    location = models.CharField(_("活动地点"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    geofence_radius = models.PositiveIntegerField(
        _("打卡范围（米）"),
        null=True,
        blank=True,
        help_text=_("填写经纬度和范围后，扫码打卡须在该范围内（小程序上报位置）。留空则不限位置。"),
    )
    time_start = models.DateTimeField(_("开始时间"), db_index=True)
    time_end = models.DateTimeField(_("结束时间"))
    open_for_enrollment = models.BooleanField(
        _("开放报名"), default=False, help_text=_("关闭后不在活动列表中出现（已报名者仍可看到）。")
    )
    enroll_from = models.DateTimeField(_("报名开始"), null=True, blank=True, help_text=_("留空则立即可报名"))
    enroll_until = models.DateTimeField(
        _("报名截止"), null=True, blank=True, help_text=_("留空则到活动结束前均可报名")
    )
    participants_total_limit = models.PositiveIntegerField(
        _("人数上限"), null=True, blank=True, help_text=_("留空表示不限人数")
    )
    waiting_list_enabled = models.BooleanField(
        _("启用候补名单"), default=True, help_text=_("名额已满时可加入候补，有人取消后按顺序递补并通知。")
    )
    form_metas = models.TextField(
        _("报名表单"),
        default="{}",
        blank=True,
        max_length=20000,
        validators=[MaxLengthValidator(20000)],
        help_text=_("报名表单的字段定义（JSON），用表单设计器编辑。"),
    )
    audience_everyone = models.BooleanField(
        _("面向所有人"),
        default=True,
        help_text=_("取消勾选后，只有下列系所、班级、分组的成员可以看到并报名。"),
    )
    audience_departments = models.ManyToManyField(
        "accounts.Department", verbose_name=_("面向系所"), blank=True, related_name="+"
    )
    audience_classes = models.ManyToManyField(
        "accounts.SchoolClass", verbose_name=_("面向班级"), blank=True, related_name="+"
    )
    audience_groups = models.ManyToManyField(
        "accounts.CampusGroup", verbose_name=_("面向分组"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ("-time_start", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(time_start__lt=F("time_end")),
                name="activity_start_before_end",
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
        ]
        indexes = [models.Index(fields=["open_for_enrollment", "-time_start"], name="activity_open_start")]

    def __str__(self):
        return self.name

    @property
    def has_geofence(self) -> bool:
        return self.latitude is not None and self.longitude is not None and bool(self.geofence_radius)


class EnrollmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("已报名")
    WAITING = "waiting", _("候补中")


class Enrollment(TimestampedModel):
    """报名记录: one person's enrollment (or place on the waiting list) in one activity."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="enrollments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="enrollments"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ENROLLED
    )
    participating_metas = models.TextField(
        _("报名信息"), default="{}", blank=True, max_length=20000, validators=[MaxLengthValidator(20000)]
    )
    promoted_at = models.DateTimeField(_("候补转正时间"), null=True, blank=True)
    promotion_notified_at = models.DateTimeField(_("转正通知时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报名记录")
        verbose_name_plural = _("报名记录")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "user"],
                name="enrollment_one_per_user",
                violation_error_message=_("你已经报名过该活动。"),
            ),
        ]
        indexes = [
            models.Index(fields=["activity", "status", "created_at"], name="enrollment_activity_status"),
            models.Index(fields=["user", "status"], name="enrollment_user_status"),
        ]

    def __str__(self):
        return f"{self.activity} · {self.user}"

    @property
    def enroll_time(self):
        return self.created_at


class ClockinKind(models.TextChoices):
    CHECK_IN = "check_in", _("签到（晚于判定时间为迟到）")
    CHECK_OUT = "check_out", _("签退（早于判定时间为早退）")
    OTHER = "other", _("其他")


class ClockinItem(TimestampedModel):
    """打卡项 (签到, 签退, …): a window in which enrolled people scan the rotating QR code."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="clockin_items"
    )
    label = models.CharField(_("打卡标签"), max_length=32, validators=[validate_label])
    kind = models.CharField(_("类型"), max_length=16, choices=ClockinKind.choices, default=ClockinKind.OTHER)
    from_time = models.DateTimeField(_("打卡开始"))
    to_time = models.DateTimeField(_("打卡结束"))
    deadline = models.DateTimeField(
        _("迟到/早退判定时间"),
        null=True,
        blank=True,
        help_text=_("签到晚于此时间算迟到，签退早于此时间算早退；留空则取活动的开始/结束时间。"),
    )
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("打卡员"),
        blank=True,
        related_name="clockin_duties",
        help_text=_("可以出示该打卡项二维码的人（须为后台用户才能打开投影页）。"),
    )

    class Meta:
        verbose_name = _("打卡项")
        verbose_name_plural = _("打卡项")
        ordering = ("from_time", "created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "label"],
                name="clockin_item_label_unique",
                violation_error_message=_("该活动已有同名的打卡项。"),
            ),
            models.CheckConstraint(
                condition=Q(from_time__lt=F("to_time")),
                name="clockin_item_window",
                violation_error_message=_("打卡结束时间必须晚于开始时间。"),
            ),
        ]

    def __str__(self):
        return f"{self.activity} · {self.label}"


class ClockinSource(models.TextChoices):
    QR = "qr", _("扫码")
    MANUAL = "manual", _("后台补录")


class ClockinRecord(TimestampedModel):
    """打卡记录: one person clocked in to one item, once (a unique constraint)."""

    item = models.ForeignKey(
        ClockinItem, verbose_name=_("打卡项"), on_delete=models.CASCADE, related_name="records"
    )
    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("报名记录"), on_delete=models.CASCADE, related_name="clockin_records"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="clockin_records",
    )
    source = models.CharField(
        _("方式"), max_length=16, choices=ClockinSource.choices, default=ClockinSource.QR
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("补录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("打卡记录")
        verbose_name_plural = _("打卡记录")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "user"],
                name="clockin_record_once",
                violation_error_message=_("已存在该打卡记录。"),
            ),
        ]
        indexes = [models.Index(fields=["enrollment", "item"], name="clockin_record_enrollment")]

    def __str__(self):
        return f"{self.item} · {self.user}"
