"""Login tokens: one per device, expiring when idle (``TOKEN_IDLE_TIMEOUT``)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import AuthToken, User


def _idle_cutoff():
    return timezone.now() - timedelta(seconds=settings.TOKEN_IDLE_TIMEOUT)


@transaction.atomic
def token_issue(*, user: User, device: str, device_id: str = "") -> tuple[AuthToken, bool]:
    """A token for one login of ``user``: a new one for every login, unless the client names its
    device (``device_id``) and that device has a live token, which is refreshed. ``device`` is
    the label shown in the device list.

    Returns ``(token, created)``. A user keeps at most ``ACCOUNTS_MAX_TOKENS_PER_USER`` tokens:
    beyond that the least recently used are revoked. This user's expired tokens are cleared on
    the way. Logins of one user are serialised on the user's row (the cap holds under races).
    """
    device, device_id = (device or "")[:255], (device_id or "")[:64]
    now = timezone.now()
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    AuthToken.objects.filter(user=user, last_used_at__lt=_idle_cutoff()).delete()
    if device_id:
        token = AuthToken.objects.filter(user=user, device_id=device_id).order_by("-last_used_at").first()
        if token is not None:
            token.last_used_at = now
            token.device = device or token.device
            token.save(update_fields=["last_used_at", "device"])
            return token, False
    token = AuthToken.objects.create(user=user, device=device, device_id=device_id, last_used_at=now)
    surplus = list(
        AuthToken.objects.filter(user=user)
        .order_by("-last_used_at", "-pk")
        .values_list("pk", flat=True)[settings.ACCOUNTS_MAX_TOKENS_PER_USER :]
    )
    if surplus:
        AuthToken.objects.filter(pk__in=surplus).delete()
    return token, True


def token_revoke(*, token: AuthToken) -> None:
    """Sign one device out: its token stops working."""
    AuthToken.objects.filter(pk=token.pk).delete()


def token_revoke_all(*, user: User) -> int:
    """Sign every device (mini-program, client) of ``user`` out; returns how many there were."""
    _, deleted = AuthToken.objects.filter(user=user).delete()  # each one's post_delete: the cache forgets it
    return deleted.get(AuthToken._meta.label, 0)
