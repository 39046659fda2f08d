"""Login tokens: one per device, expiring when idle (``TOKEN_IDLE_TIMEOUT``)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import AuthToken, User


def _idle_cutoff():
    return timezone.now() - timedelta(seconds=settings.TOKEN_IDLE_TIMEOUT)


@transaction.atomic
def token_issue(*, user: User, device: str) -> tuple[AuthToken, bool]:
    """The token of this user on this device: the live one refreshed, or a new one.

    Returns ``(token, created)``. Other devices' tokens are untouched; this user's expired
    tokens are cleared on the way.
    """
    device = (device or "")[:255]
    now = timezone.now()
    AuthToken.objects.filter(user=user, last_used_at__lt=_idle_cutoff()).delete()
    token = (
        AuthToken.objects.select_for_update()
        .filter(user=user, device=device)
        .order_by("-last_used_at")
        .first()
    )
    if token is not None:
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
        return token, False
    return AuthToken.objects.create(user=user, device=device, last_used_at=now), True


def token_revoke(*, token: AuthToken) -> None:
    """Sign one device out: its token stops working."""
    AuthToken.objects.filter(pk=token.pk).delete()
