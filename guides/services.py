"""Writes for guides: storing guide files, and e-mailing them on request."""

import hashlib
import logging
import os

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from wechathhu.core import outbox
from wechathhu.core.errors import ApplicationError

from . import selectors
from .models import Guide, GuideCategory, GuideMailRequest
from .validators import content_type_for

logger = logging.getLogger(__name__)

NO_EMAIL = "您的账户尚未绑定邮箱。"


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


@transaction.atomic
def guide_mail_request_create(*, user: User, guide_id: int) -> GuideMailRequest:
    """Record an "e-mail me this guide" request; the outbox mails it after the commit.

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
        user=user, guide=guide, email=email, status__in=outbox.PENDING_STATUSES
    ).first()
    if pending is not None:
        return pending
    mail_request = GuideMailRequest(user=user, guide=guide, guide_name=guide.name, email=email)
    mail_request.full_clean()
    mail_request.save()
    outbox.enqueue_on_commit(GuideMailRequest, [mail_request.pk])
    return mail_request
