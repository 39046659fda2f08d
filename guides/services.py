"""Writes for guides: storing guide files, and e-mailing them on request."""

import hashlib
import logging
import os
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from kombu.exceptions import KombuError

from accounts.models import User
from wechathhu.core.errors import ApplicationError

from . import selectors
from .links import guide_link_make
from .models import Guide, GuideCategory, GuideMailRequest, MailDelivery, MailStatus
from .validators import content_type_for

logger = logging.getLogger(__name__)

NO_EMAIL = "您的账户尚未绑定邮箱。"
MAIL_SUBJECT = "{name} - 服务指南文件传送"


class MailDeliveryError(Exception):
    """A transient failure to hand a mail to the SMTP server: worth retrying later."""


# --- Guides ---------------------------------------------------------------------------------------


@transaction.atomic
def guide_category_create(*, name: str) -> GuideCategory:
    category = GuideCategory(name=name)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def guide_save(*, guide: Guide) -> Guide:
    """Validate and save ``guide``; when a new file was assigned, record what it is.

    The name, size, type and digest of a new file are taken from the upload itself (the type
    from the checked extension, never from the uploader), and the file it replaces is deleted
    from the storage once the transaction has committed.
    """
    replaced = None
    if guide.file and not guide.file._committed:
        upload = guide.file.file
        guide.file_name = os.path.basename(guide.file.name)[:255]
        guide.content_type = content_type_for(guide.file_name)
        guide.file_size = upload.size
        digest = hashlib.sha256()
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        guide.file_sha256 = digest.hexdigest()
        if guide.pk:
            replaced = Guide.objects.filter(pk=guide.pk).values_list("file", flat=True).first()
    guide.full_clean()
    guide.save()
    if replaced and replaced != guide.file.name:
        transaction.on_commit(lambda: default_storage.delete(replaced))
    return guide


def guide_create(
    *, name: str, category: GuideCategory, file, description: str = "", is_published: bool = True
) -> Guide:
    """Create a guide from an uploaded (or any Django ``File``) ``file``."""
    guide = Guide(name=name, category=category, description=description, is_published=is_published)
    guide.file = file
    return guide_save(guide=guide)


@transaction.atomic
def guide_set_published(*, guide_ids, published: bool) -> int:
    """Publish or unpublish guides; returns how many were changed."""
    return (
        Guide.objects.filter(pk__in=guide_ids)
        .exclude(is_published=published)
        .update(is_published=published, updated_at=timezone.now())
    )


# --- Mail requests --------------------------------------------------------------------------------


def _enqueue_send(mail_request_id: int) -> None:
    """Hand the request to the queue, failing fast when the broker is unreachable.

    The request row is already committed and pending, so ``guides.resend_pending`` queues it
    again later: the user's request is answered at once whatever the broker's state. A
    connection of its own, without reconnect retries, keeps that answer from waiting seconds.
    """
    from .tasks import send_mail_request_task

    app = send_mail_request_task.app
    options = {**(app.conf.broker_transport_options or {}), "max_retries": 0}
    try:
        with app.connection_for_write(transport_options=options) as connection:
            send_mail_request_task.apply_async(
                kwargs={"mail_request_id": mail_request_id}, retry=False, connection=connection
            )
    except (KombuError, OSError):
        logger.warning("Guide mail %s not queued (broker unreachable); it will be resent", mail_request_id)


@transaction.atomic
def guide_mail_request_create(*, user: User, guide_id: int) -> GuideMailRequest:
    """Record that ``user`` wants a guide mailed to their address, and queue the mail.

    The address is checked before the guide (as the original did). Asking again while the
    same mail is still pending does not queue a second one.
    """
    email = (user.email or "").strip()
    if not email:
        raise ApplicationError(NO_EMAIL, code="no_email")
    guide = selectors.guide_get_published(guide_id=guide_id)
    # One user's requests are serialised so a double tap cannot queue the same mail twice.
    User.objects.select_for_update().filter(pk=user.pk).first()
    pending = GuideMailRequest.objects.filter(
        user=user, guide=guide, email=email, status=MailStatus.PENDING
    ).first()
    if pending is not None:
        return pending
    mail_request = GuideMailRequest(user=user, guide=guide, guide_name=guide.name, email=email)
    mail_request.full_clean()
    mail_request.save()
    transaction.on_commit(lambda: _enqueue_send(mail_request.pk))
    return mail_request


def _build_message(*, guide: Guide, mail_request: GuideMailRequest) -> tuple[EmailMessage, str]:
    body = [
        "您好：",
        "",
        f"您通过微服务APP向邮箱发送了服务指南：{guide.name} 【{guide.file_name}】",
    ]
    if guide.file_size <= settings.GUIDES_MAIL_ATTACHMENT_MAX_SIZE:
        delivery = MailDelivery.ATTACHMENT
        body.append("文件见附件。")
    else:
        delivery = MailDelivery.LINK
        url, expires = guide_link_make(guide=guide)
        body += [
            f"文件较大（{filesizeformat(guide.file_size)}），请通过以下链接下载：",
            url,
            f"链接有效期至 {timezone.localtime(expires):%Y-%m-%d %H:%M}（北京时间）。",
        ]
    body += ["", "此邮件由系统自动发送，请勿回复。"]
    message = EmailMessage(
        subject=MAIL_SUBJECT.format(name=guide.name), body="\n".join(body), to=[mail_request.email]
    )
    if delivery == MailDelivery.ATTACHMENT:
        with guide.file.open("rb") as fh:
            message.attach(guide.file_name, fh.read(), guide.content_type)
    return message, delivery


def _fail(mail_request: GuideMailRequest, error: str) -> GuideMailRequest:
    mail_request.status = MailStatus.FAILED
    mail_request.last_error = error[:2000]
    mail_request.save(update_fields=["status", "last_error", "attempts", "updated_at"])
    return mail_request


def guide_mail_request_send(*, mail_request_id: int) -> GuideMailRequest | None:
    """Send one pending mail request; a no-op for a request that is sent, failed or being sent.

    The row is locked while the mail is handed over, so two workers never send it twice
    (the second one skips it). A transient SMTP error is recorded on the row and raised as
    ``MailDeliveryError`` for the task to retry; a permanent one marks the row failed.
    """
    with transaction.atomic():
        # Lock this row only: no join, or the guide's row would be locked too and a second
        # request for the same guide would be skipped while the first one is being sent.
        mail_request = (
            GuideMailRequest.objects.select_for_update(skip_locked=True)
            .filter(pk=mail_request_id, status=MailStatus.PENDING)
            .first()
        )
        if mail_request is None:
            return None
        mail_request.attempts += 1
        guide = Guide.objects.filter(pk=mail_request.guide_id).first() if mail_request.guide_id else None
        if guide is None or not guide.is_published:
            return _fail(mail_request, "该指南已删除或已下架。")
        try:
            message, delivery = _build_message(guide=guide, mail_request=mail_request)
        except FileNotFoundError:
            return _fail(mail_request, "指南文件在存储中不存在。")
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            return _fail(mail_request, f"收件地址被拒绝：{exc.recipients}")
        except (smtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            mail_request.last_error = error[:2000]
            mail_request.save(update_fields=["attempts", "last_error", "updated_at"])
        else:
            mail_request.status = MailStatus.SENT
            mail_request.delivery = delivery
            mail_request.sent_at = timezone.now()
            mail_request.last_error = ""
            mail_request.full_clean()
            mail_request.save()
            return mail_request
    raise MailDeliveryError(error)


@transaction.atomic
def guide_mail_request_mark_failed(*, mail_request_id: int, error: str) -> None:
    """Record the final failure of a request (its retries are used up)."""
    mail_request = (
        GuideMailRequest.objects.select_for_update()
        .filter(pk=mail_request_id, status=MailStatus.PENDING)
        .first()
    )
    if mail_request is not None:
        _fail(mail_request, error or mail_request.last_error or "发送失败。")


@transaction.atomic
def guide_mail_request_retry(*, mail_request: GuideMailRequest) -> bool:
    """Staff: send a failed request again (with a fresh set of attempts). False if not failed."""
    updated = GuideMailRequest.objects.filter(pk=mail_request.pk, status=MailStatus.FAILED).update(
        status=MailStatus.PENDING, attempts=0, updated_at=timezone.now()
    )
    if updated:
        transaction.on_commit(lambda: _enqueue_send(mail_request.pk))
    return bool(updated)


def guide_mail_request_requeue_stale() -> int:
    """Queue again every request left pending (e.g. the broker was down when it was made).

    Requests that have used up ``GUIDES_MAIL_MAX_ATTEMPTS`` are marked failed instead.
    Returns how many were queued.
    """
    before = timezone.now() - timedelta(seconds=settings.GUIDES_MAIL_RESEND_AFTER)
    stale = list(selectors.guide_mail_request_list_stale(before=before).values_list("pk", "attempts")[:500])
    queued = 0
    for pk, attempts in stale:
        if attempts >= settings.GUIDES_MAIL_MAX_ATTEMPTS:
            guide_mail_request_mark_failed(mail_request_id=pk, error="多次尝试后仍未发送成功。")
            continue
        # Touch the row so the next run does not queue it again before this attempt had its chance.
        GuideMailRequest.objects.filter(pk=pk, status=MailStatus.PENDING).update(updated_at=timezone.now())
        _enqueue_send(pk)
        queued += 1
    return queued
