"""Message attachments (携带附件, 附件下载): checked by their bytes, stored through Django's storage
API, downloaded by the people who can see the message.

* **What is accepted.** The type is recognised from the content (magic bytes, the parts inside an
  Office zip, Pillow for images), never from the name or the browser's content type; it must be one
  of ``MESSAGING_ATTACHMENT_TYPES``. The file is stored under an opaque name with the detected
  type's extension, and the name shown keeps the uploader's stem with that extension.
* **How many.** At most ``MESSAGING_ATTACHMENT_MAX_COUNT`` per message, each at most
  ``MESSAGING_ATTACHMENT_MAX_BYTES``: checked with the message row locked, so two uploads at once
  cannot pass the limit together. A request's files are all stored or none is.
* **Who.** Only the sender adds or removes them (someone else who sees the message as a sender: 403,
  anyone else: 404; ``selectors.message_get_for_sender(action="attach")``). Downloads: the
  message's recipients (``selectors.message_get_for_user``) and those who see it as a sender.
"""

from __future__ import annotations

import hashlib
import os
import zipfile

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from guides.validators import CONTENT_TYPES, OLE2, OOXML_PART, ZIP_MAGICS
from wechathhu.core.errors import ApplicationError, NotFoundError

from . import selectors
from .errors import MessagingErrorCode
from .models import Message, MessageAttachment

ATTACHMENT_NOT_FOUND = "附件不存在。"
LEGACY_OFFICE = ("doc", "xls", "ppt")


class AttachmentRefused(ApplicationError):
    def __init__(self, message: str, *, code=MessagingErrorCode.ATTACHMENT_REFUSED):
        super().__init__(message, code=code, field="files")


def _image_format(file) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        file.seek(0)
        with Image.open(file) as image:
            image.verify()
            return {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}.get(image.format)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return None
    finally:
        file.seek(0)


def detect_type(file, *, name: str = "") -> str | None:
    """The extension of the type ``file``'s bytes are, or ``None`` when not recognised.

    Legacy Office files share one container (OLE2); which of doc/xls/ppt it is comes from the name
    when the name says one of them, else ``doc``.
    """
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(OLE2):
        ext = os.path.splitext(name)[1].lower().lstrip(".")
        return ext if ext in LEGACY_OFFICE else "doc"
    if head.startswith(ZIP_MAGICS):
        try:
            names = zipfile.ZipFile(file).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            file.seek(0)
        if "[Content_Types].xml" in names:
            for ext, prefix in OOXML_PART.items():
                if any(n.startswith(prefix) for n in names):
                    return ext
        return "zip"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return _image_format(file)
    return None


def _allowed() -> list[str]:
    return [e.lower().lstrip(".") for e in settings.MESSAGING_ATTACHMENT_TYPES]


def _display_name(name: str, ext: str) -> str:
    stem = os.path.splitext(os.path.basename(name or ""))[0].strip()[:200] or "附件"
    return f"{stem}.{ext}"


def check_upload(upload) -> str:
    """The detected extension of an acceptable upload; else ``AttachmentRefused`` naming the file."""
    name = getattr(upload, "name", "") or "附件"
    if upload.size > settings.MESSAGING_ATTACHMENT_MAX_BYTES:
        raise AttachmentRefused(
            f"文件“{name}”过大（{filesizeformat(upload.size)}），每个附件不能超过 "
            f"{filesizeformat(settings.MESSAGING_ATTACHMENT_MAX_BYTES)}。",
            code=MessagingErrorCode.ATTACHMENT_TOO_LARGE,
        )
    if upload.size == 0:
        raise AttachmentRefused(f"文件“{name}”为空。")
    ext = detect_type(upload, name=name)
    allowed = _allowed()
    if ext is None or ext not in allowed:
        raise AttachmentRefused(
            f"文件“{name}”的内容不是允许的类型（按文件内容识别，与文件名无关）；允许：{'、'.join(allowed)}。"
        )
    return ext


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def attachments_add(*, message: Message, uploads: list, user=None) -> list[MessageAttachment]:
    """Attach ``uploads`` to ``message`` (all or none) and return the new attachments.

    The caller has checked that ``user`` is the sender. Every file is checked before any is stored;
    the count limit is checked with the message row locked.
    """
    if not uploads:
        raise AttachmentRefused("请选择要上传的文件（字段 files）。")
    checked = [(upload, check_upload(upload)) for upload in uploads]
    Message.objects.select_for_update().filter(pk=message.pk).values_list("pk", flat=True).first()
    existing = MessageAttachment.objects.filter(message_id=message.pk).count()
    limit = settings.MESSAGING_ATTACHMENT_MAX_COUNT
    if existing + len(checked) > limit:
        raise AttachmentRefused(
            f"每条消息最多 {limit} 个附件（已有 {existing} 个，本次 {len(checked)} 个）。",
            code=MessagingErrorCode.TOO_MANY_ATTACHMENTS,
        )
    created = []
    for upload, ext in checked:
        attachment = MessageAttachment(
            message_id=message.pk,
            file_name=_display_name(upload.name, ext),
            file_size=upload.size,
            content_type=CONTENT_TYPES[ext],
            file_sha256=_sha256(upload),
            uploaded_by=user,
        )
        # Stored once every file passed its checks; a failure after this point (rare: the storage
        # itself) may leave an unreferenced file behind, never a row without its file.
        attachment.file.save(f"upload.{ext}", upload, save=False)
        attachment.save()
        created.append(attachment)
    return created


@transaction.atomic
def attachment_delete(*, attachment: MessageAttachment) -> None:
    """Remove an attachment; its file leaves the storage once the removal is committed."""
    name, storage = attachment.file.name, attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


def attachment_files_delete_on_commit(*, message: Message) -> None:
    """Before a message is deleted: its files leave the storage once the deletion is committed."""
    storage = MessageAttachment.file.field.storage
    names = list(MessageAttachment.objects.filter(message_id=message.pk).values_list("file", flat=True))
    if names:
        transaction.on_commit(lambda: [storage.delete(name) for name in names])


# --- Reads ------------------------------------------------------------------------------------


def message_get_for_attachments(*, user, message_id: int) -> Message:
    """A message whose attachments ``user`` may download: a recipient (or anyone, for a global
    message) while it is visible, or someone who sees it as a sender. Else 404."""
    try:
        return selectors.message_get_for_user(user=user, message_id=message_id)
    except NotFoundError:
        if selectors.user_can_send(user=user):
            return selectors.message_get_for_sender(user=user, message_id=message_id)
        raise


def attachment_get_for_download(*, user, message_id: int, attachment_id: int) -> MessageAttachment:
    message = message_get_for_attachments(user=user, message_id=message_id)
    attachment = MessageAttachment.objects.filter(message_id=message.pk, pk=attachment_id).first()
    if attachment is None:
        raise NotFoundError(ATTACHMENT_NOT_FOUND)
    return attachment


def attachment_get_for_sender(*, user, message_id: int, attachment_id: int) -> MessageAttachment:
    """An attachment of a message ``user`` sent (403 for a sender-viewer who did not send it, 404
    for those who cannot see it or a wrong attachment id)."""
    message = selectors.message_get_for_sender(user=user, message_id=message_id, action="attach")
    attachment = MessageAttachment.objects.filter(message_id=message.pk, pk=attachment_id).first()
    if attachment is None:
        raise NotFoundError(ATTACHMENT_NOT_FOUND)
    return attachment
