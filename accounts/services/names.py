"""Pinyin name keys: the directory's search and sort keys, derived from a user's name."""

from .. import search
from ..models import User
from ..pinyin import name_keys


def user_refresh_name_keys(user: User) -> None:
    """Recompute the pinyin search and sort keys from the name (no save)."""
    keys = name_keys(user.last_name, user.first_name)
    user.name_pinyin, user.name_initials, user.alpha = keys.pinyin, keys.initials, keys.alpha


def user_refresh_all_name_keys(*, batch_size: int = 1000) -> int:
    """Recompute every user's pinyin keys (after ``accounts.pinyin`` learns new readings), in
    batches; returns how many rows changed."""
    changed = 0
    last_pk = 0
    while True:
        batch = list(
            User.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "last_name", "first_name", "name_pinyin", "name_initials", "alpha")[:batch_size]
        )
        if not batch:
            return changed
        last_pk = batch[-1].pk
        stale = []
        for user in batch:
            before = (user.name_pinyin, user.name_initials, user.alpha)
            user_refresh_name_keys(user)
            if (user.name_pinyin, user.name_initials, user.alpha) != before:
                stale.append(user)
        User.objects.bulk_update(stale, ["name_pinyin", "name_initials", "alpha"])
        search.index_users(user.pk for user in stale)
        changed += len(stale)
