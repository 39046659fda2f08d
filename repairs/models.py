"""故障报修: categories, who is mailed for which category, requests, their photos and history.

Routing (``NotificationRecipient``): a recipient with a category is mailed that category's
requests; a recipient without one (a catch-all) is mailed every request, including requests
that have no category. A category that still has recipients or requests cannot be deleted
(``PROTECT``): staff retire it with ``is_active`` instead, so deleting a category never turns its
recipients into catch-all ones (the original's W20).
"""

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from wechathhu.core.images import IMAGE_EXTENSIONS
from wechathhu.core.models import TimestampedModel
from wechathhu.core.outbox import OutboxDelivery


class FaultCategory(TimestampedModel):
    """故障分类, in the order staff give them."""

    name = models.CharField(_("名称"), max_length=150, unique=True)
    position = models.PositiveIntegerField(_("排序"), default=0, help_text=_("数字小的排在前面"))
    response_hours = models.PositiveIntegerField(
        _("处理时限（小时）"),
        default=48,
        validators=[MinValueValidator(1)],
        help_text=_("从报修到解决的时限；超过时限仍未解决的报修在后台标红"),
    )
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用的分类不再出现在小程序中，已有报修不受影响")
    )

    class Meta:
        verbose_name = _("故障分类")
        verbose_name_plural = _("故障分类")
        ordering = ("position", "name", "id")

    def __str__(self):
        return self.name


class NotificationRecipient(TimestampedModel):
    """邮件提醒: who is mailed about new requests; no category means every category."""

    name = models.CharField(_("姓名"), max_length=150)
    email = models.EmailField(_("电子邮箱"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("对应用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repair_subscriptions",
        help_text=_("可选：该收件人在系统中的账号"),
    )
    category = models.ForeignKey(
        FaultCategory,
        verbose_name=_("故障分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recipients",
        help_text=_("留空表示接收所有类别（包括未分类）的报修"),
    )
    # 0 for a catch-all recipient: lets one unique constraint also stop duplicate catch-all rows
    # (NULLs are distinct in a plain unique index, and MariaDB has no partial indexes).
    category_key = models.GeneratedField(
        expression=Coalesce("category", 0),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("邮件提醒")
        verbose_name_plural = _("邮件提醒")
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("email", "category_key"),
                name="repairs_recipient_unique_email_per_category",
                violation_error_message=_("该邮箱已登记在这个分类（或“全部类别”）下。"),
            )
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class RepairStatus(models.TextChoices):
    PENDING = "pending", _("未受理")
    PROCESSING = "processing", _("处理中")
    SOLVED = "solved", _("已解决")
    CLOSED = "closed", _("已关闭")


OPEN_STATUSES = (RepairStatus.PENDING, RepairStatus.PROCESSING)


class RepairRequest(TimestampedModel):
    """报修请求. Status changes go through ``repairs.services`` only (its transition table)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报修人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="repair_requests",
    )
    location = models.CharField(_("故障地点"), max_length=255)
    category = models.ForeignKey(
        FaultCategory,
        verbose_name=_("故障分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    description = models.TextField(_("故障描述"), max_length=2000, validators=[MaxLengthValidator(2000)])
    status = models.CharField(
        _("状态"), max_length=16, choices=RepairStatus.choices, default=RepairStatus.PENDING
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_repairs",
        limit_choices_to={"is_staff": True},
    )
    due_at = models.DateTimeField(_("处理时限"), help_text=_("按故障分类的处理时限计算"))
    solved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("评分"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报修请求")
        verbose_name_plural = _("报修请求")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("user", "-created_at"), name="repairs_req_user_created"),
            models.Index(fields=("status", "due_at"), name="repairs_req_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="repairs_req_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RepairStatus.values), name="repairs_req_status_valid"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.location}"


def repair_photo_path(instance, filename):
    # The stored name never carries the uploader's file name, nor its extension: the extension of
    # the type detected from the bytes (``content_type``, set by the create service).
    return f"repairs/photos/{uuid.uuid4().hex}{IMAGE_EXTENSIONS.get(instance.content_type, '')}"


class RepairPhoto(TimestampedModel):
    """A photo attached to a request; served only to its reporter and to staff."""

    request = models.ForeignKey(
        RepairRequest, verbose_name=_("报修请求"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("图片"), upload_to=repair_photo_path)
    content_type = models.CharField(_("类型"), max_length=50)
    size = models.PositiveIntegerField(_("大小（字节）"))

    class Meta:
        verbose_name = _("报修照片")
        verbose_name_plural = _("报修照片")
        ordering = ("id",)

    def __str__(self):
        return self.image.name


class EventKind(models.TextChoices):
    CREATED = "created", _("提交报修")
    STATUS = "status", _("状态变更")
    ASSIGNED = "assigned", _("指派处理人")
    CATEGORY = "category", _("更改分类")
    REPLY = "reply", _("回复")
    NOTE = "note", _("内部备注")
    RATED = "rated", _("评价")


class RepairEvent(TimestampedModel):
    """One line of a request's history. ``is_internal`` lines are shown to staff only."""

    request = models.ForeignKey(
        RepairRequest, verbose_name=_("报修请求"), on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=EventKind.choices)
    from_status = models.CharField(_("原状态"), max_length=16, choices=RepairStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=RepairStatus.choices, blank=True)
    content = models.TextField(_("内容"), blank=True, max_length=2000, validators=[MaxLengthValidator(2000)])
    is_internal = models.BooleanField(_("仅内部可见"), default=False)

    class Meta:
        verbose_name = _("处理记录")
        verbose_name_plural = _("处理记录")
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=("request", "created_at"), name="repairs_event_req_created")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.request_id}"


class RepairNotification(OutboxDelivery):
    """One e-mail about one new request to one recipient: an outbox row, sent once after commit.

    The name and address are copied from the recipient when the request is routed, so a mail
    still goes out (and stays on record) if the recipient is edited or removed afterwards.
    """

    request = models.ForeignKey(
        RepairRequest, verbose_name=_("报修请求"), on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        NotificationRecipient,
        verbose_name=_("收件人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    name = models.CharField(_("姓名"), max_length=150)
    email = models.EmailField(_("电子邮箱"))

    outbox_channel = "email"
    outbox_select_related = ("request__category", "request__user__department")

    class Meta(OutboxDelivery.Meta):
        verbose_name = _("报修邮件")
        verbose_name_plural = _("报修邮件")
        ordering = ("id",)
        constraints = [
            *OutboxDelivery.Meta.constraints,
            models.UniqueConstraint(
                fields=("request", "email"), name="repairs_notification_once_per_address"
            ),
        ]

    def outbox_send(self) -> None:
        from .mail import notification_send

        notification_send(self)

    def __str__(self):
        return f"#{self.request_id} → {self.email}"
