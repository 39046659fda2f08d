"""What a message carries and how it is found again (issue 20 items 4, 6, 8).

Kept apart from ``messaging.models`` so the message center's core does not grow with every
feature; ``messaging.models`` imports every model defined here.

* ``MessageAttachment``: a file on a message (up to ``MESSAGING_ATTACHMENT_MAX_COUNT``), stored
  through Django's storage API under an opaque name with the extension of the type its bytes were
  recognised as (``messaging.attachments``).
* ``MessageSearchTerm``: the application-maintained full-text index (``messaging.search``): one row
  per (message, term), a term being a character bigram of the title or content (or a segment's
  last character), with a weight (title occurrences count more). It works the same on MariaDB
  (whose FULLTEXT has no ngram parser) and SQLite.
* ``MessageTemplate``: a saved message (消息群发助手) whose title and content may hold placeholders
  such as ``{姓名}`` and ``{班级}``, filled per recipient at send time (``messaging.templates_service``).
"""

import os
import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel

# The longest message text (an announcement of a few pages; seed 001 names no limit).
CONTENT_MAX_LENGTH = 20000

__all__ = ["MessageAttachment", "MessageSearchTerm", "MessageTemplate"]


def attachment_upload_to(instance: "MessageAttachment", filename: str) -> str:
    """A fresh opaque path per upload; the extension is the detected type's (set by the service
    as the name passed in), never the uploader's."""
    ext = os.path.splitext(filename)[1].lower()[:10]
    return f"messages/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


class MessageAttachment(TimestampedModel):
    """A file attached to a message. ``file_*`` and ``content_type`` are set by the service from the
    checked bytes; ``file_name`` is the uploader's name (shown and used for downloads)."""

    message = models.ForeignKey(
        "messaging.Message", verbose_name=_("消息"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to=attachment_upload_to, max_length=255)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"), default=0)
    content_type = models.CharField(_("文件类型"), max_length=127)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("消息附件")
        verbose_name_plural = _("消息附件")
        ordering = ("id",)

    def __str__(self):
        return self.file_name


class MessageSearchTerm(models.Model):
    """One term of a message's title or content and its weight (``messaging.search``).

    Two covering indexes answer a search from the index alone: ``(term, message, weight)`` finds
    the messages holding a bigram (from the rarest one) or probes one message for it;
    ``(message, term, weight)`` sums one message's terms starting with a character (a
    one-character query) and serves the foreign key in place of its own index.
    """

    id = models.BigAutoField(primary_key=True)
    message = models.ForeignKey(
        "messaging.Message",
        verbose_name=_("消息"),
        on_delete=models.CASCADE,
        related_name="search_terms",
        db_index=False,  # message_search_message starts with it
    )
    term = models.CharField(_("词"), max_length=2)
    weight = models.PositiveSmallIntegerField(_("权重"), default=1)

    class Meta:
        verbose_name = _("消息检索词")
        verbose_name_plural = _("消息检索词")
        indexes = [
            models.Index(fields=["term", "message", "weight"], name="message_search_term"),
            models.Index(fields=["message", "term", "weight"], name="message_search_message"),
        ]

    def __str__(self):
        return f"{self.message_id}: {self.term}"


class MessageTemplate(TimestampedModel):
    """A message saved for reuse (消息群发助手). Placeholders (``{姓名}``, ``{班级}`` …, see
    ``messaging.templates_service.PLACEHOLDERS``) are filled per recipient when it is sent."""

    name = models.CharField(_("模板名称"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建者"),
        on_delete=models.CASCADE,
        related_name="message_templates",
    )
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(
        _("内容"),
        blank=True,
        max_length=CONTENT_MAX_LENGTH,
        validators=[MaxLengthValidator(CONTENT_MAX_LENGTH)],
    )
    type = models.CharField(_("类型"), max_length=16, default="notification")
    priority = models.CharField(_("优先级"), max_length=8, default="normal")
    category = models.ForeignKey(
        "messaging.Category",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_shared = models.BooleanField(
        _("共享"), default=False, help_text=_("共享的模板所有发送人都能看到和使用（只有创建者能修改）")
    )

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ("-updated_at", "-id")
        indexes = [models.Index(fields=["owner", "updated_at"], name="message_template_owner")]

    def __str__(self):
        return self.name


class RecipientText(models.Model):
    """The title and content one recipient sees when a template with placeholders was sent to them
    (filled at send time); messages without placeholders have no rows."""

    recipient_row = models.OneToOneField(
        "messaging.MessageRecipient",
        verbose_name=_("接收记录"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="personal_text",
    )
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(
        _("内容"),
        blank=True,
        max_length=CONTENT_MAX_LENGTH,
        validators=[MaxLengthValidator(CONTENT_MAX_LENGTH)],
    )

    class Meta:
        verbose_name = _("个性化内容")
        verbose_name_plural = _("个性化内容")

    def __str__(self):
        return self.title


__all__ += ["RecipientText"]
