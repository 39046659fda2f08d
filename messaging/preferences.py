"""Delivery preferences (issue 20 item 2, seed 003 关注特定分类): what each user wants pushed, and when.

The delivery rules (``messaging.delivery``) read them through
``delivery_preferences_for_users`` (re-exported by ``messaging.selectors``): two queries whatever
the number of users, and the defaults for a user who never changed anything (no row is written
until they do).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from wechathhu.core.errors import ApplicationError

from .errors import MessagingErrorCode
from .models import DEFAULT_DIGEST_TIME, Category, DeliveryPreference, PreferredChannel

UPDATABLE = (
    "quiet_hours_start",
    "quiet_hours_end",
    "preferred_channel",
    "digest_enabled",
    "digest_time",
)


@dataclass(frozen=True)
class DeliveryPreferences:
    """One user's preferences as the delivery rules read them (defaults when they have no row).

    ``muted_category_ids`` are the categories the user does not follow; a message without a
    category is always followed.
    """

    user_id: int
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    preferred_channel: str = PreferredChannel.WECHAT
    digest_enabled: bool = False
    digest_time: time = DEFAULT_DIGEST_TIME
    muted_category_ids: frozenset[int] = field(default_factory=frozenset)
    is_default: bool = True

    def follows(self, category_id: int | None) -> bool:
        """Whether the user wants messages of this category pushed (in-app is always on)."""
        return category_id is None or category_id not in self.muted_category_ids

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_hours_start is not None and self.quiet_hours_end is not None

    def is_quiet_at(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) falls in the quiet hours, in Beijing time.

        The start is inside, the end outside; a window whose end is before its start wraps past
        midnight (22:00–07:00 covers 23:30 and 06:59, not 07:00).
        """
        if not self.has_quiet_hours:
            return False
        local = timezone.localtime(moment).time().replace(tzinfo=None)
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start < end:
            return start <= local < end
        return local >= start or local < end


def _from_row(row: dict, muted: Iterable[int]) -> DeliveryPreferences:
    return DeliveryPreferences(
        user_id=row["user_id"],
        quiet_hours_start=row["quiet_hours_start"],
        quiet_hours_end=row["quiet_hours_end"],
        preferred_channel=row["preferred_channel"],
        digest_enabled=row["digest_enabled"],
        digest_time=row["digest_time"],
        muted_category_ids=frozenset(muted),
        is_default=False,
    )


def delivery_preferences_for_users(
    *, user_ids: Iterable[int], rows_of: QuerySet | None = None
) -> dict[int, DeliveryPreferences]:
    """``{user id: DeliveryPreferences}`` for every id given (defaults for users without a row).

    Two queries whatever the number of users (the rows, then their muted categories); none at
    all for an empty list. ``user_ids`` may be a queryset of ids (it is evaluated once).
    ``rows_of``, a queryset of the same users' ids (a superset will do), reads the rows through a
    subquery instead of a list of ids (a fan-out's ten thousand ids cost more to send than to read).
    """
    ids = sorted({int(pk) for pk in user_ids})
    if not ids:
        return {}
    fields = ("id", "user_id", *UPDATABLE)
    rows = list(
        DeliveryPreference.objects.filter(user_id__in=ids if rows_of is None else rows_of).values(*fields)
    )
    muted: dict[int, list[int]] = defaultdict(list)
    if rows:
        through = DeliveryPreference.muted_categories.through
        for pref_id, category_id in through.objects.filter(
            deliverypreference_id__in=[r["id"] for r in rows]
        ).values_list("deliverypreference_id", "category_id"):
            muted[pref_id].append(category_id)
    found = {row["user_id"]: _from_row(row, muted[row["id"]]) for row in rows}
    return {pk: found.get(pk) or DeliveryPreferences(user_id=pk) for pk in ids}


def delivery_preferences_for_user(*, user) -> DeliveryPreferences:
    return delivery_preferences_for_users(user_ids=[user.pk])[user.pk]


@transaction.atomic
def delivery_preferences_update(*, user, data: dict) -> DeliveryPreferences:
    """Change some of ``user``'s preferences (absent keys are kept) and return them all.

    ``data`` may hold the fields of ``UPDATABLE`` and ``muted_category_ids`` (the whole set of
    categories not followed). Quiet hours are both set or both empty, and not equal. The row is
    created on the first change; the user's row is locked, so two devices saving at once queue.
    """
    pref, _ = DeliveryPreference.objects.select_for_update().get_or_create(user=user)
    for name in UPDATABLE:
        if name in data:
            setattr(pref, name, data[name])
    if pref.digest_time is None:
        pref.digest_time = DEFAULT_DIGEST_TIME
    if pref.preferred_channel not in PreferredChannel.values:
        raise ApplicationError(
            f"不支持的推送渠道：{pref.preferred_channel}。",
            field="preferred_channel",
            code=MessagingErrorCode.INVALID_PREFERENCES,
        )
    if (pref.quiet_hours_start is None) != (pref.quiet_hours_end is None):
        raise ApplicationError(
            "免打扰时段的开始和结束须同时填写（或同时留空）。",
            field="quiet_hours_end" if pref.quiet_hours_end is None else "quiet_hours_start",
            code=MessagingErrorCode.INVALID_PREFERENCES,
        )
    if pref.quiet_hours_start is not None and pref.quiet_hours_start == pref.quiet_hours_end:
        raise ApplicationError(
            "免打扰时段的开始和结束不能相同。",
            field="quiet_hours_end",
            code=MessagingErrorCode.INVALID_PREFERENCES,
        )
    pref.save()
    if "muted_category_ids" in data:
        wanted = {int(pk) for pk in data["muted_category_ids"]}
        existing = set(Category.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = sorted(wanted - existing)
        if missing:
            raise ApplicationError(
                f"以下消息分类不存在：{', '.join(map(str, missing))}。",
                field="muted_category_ids",
                code=MessagingErrorCode.UNKNOWN_CATEGORY,
            )
        pref.muted_categories.set(sorted(wanted))
    return delivery_preferences_for_user(user=user)


def preferences_overview(*, user) -> dict:
    """``user``'s preferences with every active category and whether they follow it (two to
    three queries), as the preferences screens show them."""
    prefs = delivery_preferences_for_user(user=user)
    categories = Category.objects.filter(is_active=True).order_by("position", "id")
    return {
        "quiet_hours_start": prefs.quiet_hours_start,
        "quiet_hours_end": prefs.quiet_hours_end,
        "preferred_channel": prefs.preferred_channel,
        "digest_enabled": prefs.digest_enabled,
        "digest_time": prefs.digest_time,
        "muted_category_ids": sorted(prefs.muted_category_ids),
        "categories": [
            {
                "id": c.pk,
                "name": c.name,
                "icon": c.icon,
                "colour": c.colour,
                "followed": prefs.follows(c.pk),
            }
            for c in categories
        ],
        "urgent_always_pushed": True,
    }
