"""Expiring download links for guides too large to attach to a mail.

A link carries a signed, timestamped token (``TimestampSigner``): nothing is stored, it works
without a login, and it stops working ``GUIDES_LINK_MAX_AGE`` seconds after it was made or as
soon as the guide's file is replaced (the token names the file's digest).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from wechathhu.core.errors import ApplicationError, NotFoundError

from .errors import GuidesErrorCode as Code
from .models import Guide

SALT = "guides.download-link"
LINK_INVALID = "下载链接无效。"
LINK_EXPIRED = "下载链接已过期，请在小程序中重新发送。"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def guide_link_make(*, guide: Guide) -> tuple[str, datetime]:
    """An absolute download URL for ``guide`` and the moment it stops working."""
    token = _signer().sign_object({"g": guide.pk, "h": guide.file_sha256[:16]})
    url = settings.SITE_URL + reverse("guides:guide-link", kwargs={"token": token})
    return url, timezone.now() + timedelta(seconds=settings.GUIDES_LINK_MAX_AGE)


def guide_get_by_link(*, token: str) -> Guide:
    """The published guide a link names; 404 when forged or stale, 410 when expired."""
    try:
        data = _signer().unsign_object(token, max_age=settings.GUIDES_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise ApplicationError(LINK_EXPIRED, status=410, code=Code.LINK_EXPIRED)
    except (signing.BadSignature, ValueError):
        raise NotFoundError(LINK_INVALID, code=Code.LINK_INVALID)
    if not isinstance(data, dict):
        raise NotFoundError(LINK_INVALID, code=Code.LINK_INVALID)
    guide = (
        Guide.objects.select_related("category")
        .filter(pk=data.get("g"), is_published=True, file_sha256__startswith=str(data.get("h") or "-"))
        .first()
    )
    if guide is None:
        raise NotFoundError(LINK_INVALID, code=Code.LINK_INVALID)
    return guide
