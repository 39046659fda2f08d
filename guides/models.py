"""服务指南: downloadable guides (forms, rules, how-tos) in categories, and mail requests for them."""

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel
from wechathhu.core.outbox import OutboxDelivery

from .validators import STORED_EXTENSIONS, content_type_for, validate_guide_file


class GuideCategory(TimestampedModel):
    name = models.CharField(_("名称"), max_length=150, unique=True)

    class Meta:
        verbose_name = _("指南分类")
        verbose_name_plural = _("指南分类")
        ordering = ("name", "-id")

    def __str__(self):
        return self.name


def guide_upload_to(instance: "Guide", filename: str) -> str:
    """A fresh opaque path per upload: no collisions, no user-chosen names in the storage.

    The name the uploader gave is kept in ``Guide.file_name`` and used for downloads; the stored
    file's extension is its type's (``content_type``, which ``guide_save`` takes from the checked
    type: the validator refuses content that is not of that type), never the uploaded name's.
    """
    content_type = getattr(instance, "content_type", "") or content_type_for(filename)
    ext = STORED_EXTENSIONS.get(content_type, "")
    return f"guides/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


class Guide(TimestampedModel):
    """A guide document. ``file_*`` columns describe the stored file and are set by ``guide_save``."""

    name = models.CharField(_("名称"), max_length=255)
    description = models.TextField(
        _("说明"), blank=True, max_length=2000, validators=[MaxLengthValidator(2000)]
    )
    category = models.ForeignKey(
        GuideCategory, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="guides"
    )
    file = models.FileField(
        _("文件"), upload_to=guide_upload_to, max_length=255, validators=[validate_guide_file]
    )
    file_name = models.CharField(_("文件名"), max_length=255, editable=False)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"), default=0, editable=False)
    content_type = models.CharField(_("文件类型"), max_length=127, editable=False)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64, editable=False)
    is_published = models.BooleanField(
        _("已发布"), default=True, help_text=_("未发布的指南不会出现在小程序中。")
    )

    class Meta:
        verbose_name = _("指南文件")
        verbose_name_plural = _("指南文件")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["is_published", "-created_at"], name="guide_published_created")]

    def __str__(self):
        return self.name


class MailDelivery(models.TextChoices):
    ATTACHMENT = "attachment", _("附件")
    LINK = "link", _("下载链接")


class GuideMailRequest(OutboxDelivery):
    """One "e-mail me this guide" request: an outbox row, kept so staff can follow it up."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="guide_mail_requests",
    )
    guide = models.ForeignKey(
        Guide, verbose_name=_("指南"), null=True, on_delete=models.SET_NULL, related_name="mail_requests"
    )
    guide_name = models.CharField(_("指南名称"), max_length=255)
    email = models.EmailField(_("收件邮箱"), max_length=254)
    delivery = models.CharField(_("发送方式"), max_length=16, choices=MailDelivery.choices, blank=True)

    outbox_channel = "email"

    class Meta(OutboxDelivery.Meta):
        verbose_name = _("指南邮件")
        verbose_name_plural = _("指南邮件")
        ordering = ("-created_at", "-id")

    def outbox_send(self) -> dict:
        from .mail import mail_request_send

        return mail_request_send(self)

    def __str__(self):
        return f"{self.guide_name} → {self.email}"
