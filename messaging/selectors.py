"""Reads for the message center, shaped for their consumers.

A user's inbox is the union of two halves, each driven by its own index so that its cost does
not grow with the number of messages in the system:

* **targeted**: the user's own recipient rows (unique index ``(recipient, message)``), joined to
  their visible messages;
* **global**: the visible global messages (index ``(is_global, is_active, published_at)``),
  left-joined to the user's state row for each, if any (fan-out on read).

Both halves carry the user's engagement (``read_at``, ``archived_at``) through the same
``FilteredRelation``, so filters and counts are written once for both.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, FilteredRelation, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from wechathhu.core.errors import NotFound

from .filters import RecipientFilterSet, SenderMessageFilterSet, UserMessageFilterSet, apply_filterset
from .models import Message, MessageRecipient, MessageType
from .preferences import DeliveryPreferences, delivery_preferences_for_users  # noqa: F401 - the API

MESSAGE_NOT_FOUND = "消息不存在。"


# --- Who may do what --------------------------------------------------------------------------


def user_can_send(*, user) -> bool:
    """Staff, and users granted ``messaging.send`` (e.g. counsellors), may send messages."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_staff or user.has_perm("messaging.send"))
    )


def user_can_send_global(*, user) -> bool:
    """Only superusers and holders of ``messaging.send_global`` may message everyone."""
    return bool(user.is_authenticated and user.is_active and user.has_perm("messaging.send_global"))


# --- Visibility -------------------------------------------------------------------------------


def visible_q(*, now=None, prefix: str = "") -> Q:
    """Published, not withdrawn and not expired at ``now``."""
    now = now or timezone.now()
    return Q(**{f"{prefix}is_active": True, f"{prefix}published_at__lte": now}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})
    )


def _with_user_state(queryset: QuerySet[Message], *, user: User) -> QuerySet[Message]:
    """Left-join each message to ``user``'s state row, if any (unique per message and user).

    Filters go through the ``state_*`` annotations, never ``state__…`` lookups: each separate
    ``filter()`` on a multi-valued relation would add another join.
    """
    return queryset.alias(
        state=FilteredRelation("recipients", condition=Q(recipients__recipient=user))
    ).annotate(
        state_id=F("state__id"),
        state_read_at=F("state__read_at"),
        state_archived_at=F("state__archived_at"),
    )


def _inbox_halves(*, user: User, now=None) -> tuple[QuerySet[Message], QuerySet[Message]]:
    visible = _with_user_state(Message.objects.filter(visible_q(now=now)), user=user)
    targeted = visible.filter(is_global=False, state_id__isnull=False)
    everyone = visible.filter(is_global=True)
    return targeted, everyone


class Inbox:
    """A user's visible messages, newest first, sliceable and countable like a queryset.

    ``count()`` is one query; a slice is two (the page's ids through ``UNION ALL`` of the two
    halves, then those rows with their sender and the user's state).
    """

    def __init__(self, *, user: User, targeted: QuerySet[Message], everyone: QuerySet[Message]):
        self.user = user
        self.targeted = targeted
        self.everyone = everyone

    def _ids(self):
        return (
            self.targeted.order_by()
            .values_list("id", "published_at")
            .union(self.everyone.order_by().values_list("id", "published_at"), all=True)
        )

    def count(self) -> int:
        return self._ids().count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        if not isinstance(item, slice):
            raise TypeError("Inbox supports slicing only.")
        page = list(self._ids().order_by("-published_at", "-id")[item])
        ids = [row[0] for row in page]
        if not ids:
            return []
        rows = {
            m.pk: m
            for m in _with_user_state(Message.objects.filter(pk__in=ids), user=self.user).select_related(
                "sender", "category"
            )
        }
        return [rows[pk] for pk in ids if pk in rows]


def message_inbox(*, user: User, filters=None) -> Inbox:
    """The user's visible messages filtered by seed 001's user-list parameters.

    Archived messages are left out unless ``is_archived`` is given (seed 001: 已归档的消息不在常规
    列表中显示).
    """
    filters = filters.copy() if filters else {}  # a QueryDict copy is mutable
    targeted, everyone = _inbox_halves(user=user)
    if filters.get("is_archived") in (None, ""):
        filters["is_archived"] = "false"
    targeted = apply_filterset(UserMessageFilterSet, filters, targeted)
    everyone = apply_filterset(UserMessageFilterSet, filters, everyone)
    return Inbox(user=user, targeted=targeted, everyone=everyone)


def message_get_for_user(*, user: User, message_id: int) -> Message:
    """One visible message addressed to ``user`` (or global), with the user's state; else 404."""
    message = (
        _with_user_state(Message.objects.filter(visible_q(), pk=message_id), user=user)
        .filter(Q(is_global=True) | Q(state_id__isnull=False))
        .select_related("sender", "category")
        .first()
    )
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    return message


def message_visible_ids_for_user(*, user: User, message_ids) -> list[tuple[int, bool]]:
    """``(id, is_global)`` of those of ``message_ids`` the user can see; the rest are dropped."""
    return list(
        _with_user_state(Message.objects.filter(visible_q(), pk__in=list(message_ids)), user=user)
        .filter(Q(is_global=True) | Q(state_id__isnull=False))
        .values_list("id", "is_global")
    )


def _state_counts(queryset: QuerySet[Message]) -> list[dict]:
    """The half's counts per category (one grouped query; a row per category present)."""
    return list(
        queryset.order_by()
        .values("category_id", "category__name", "category__position")
        .annotate(
            total=Count("id"),
            read=Count("id", filter=Q(state_read_at__isnull=False)),
            archived=Count("id", filter=Q(state_archived_at__isnull=False)),
            **{t.value: Count("id", filter=Q(type=t.value)) for t in MessageType},
        )
    )


def message_unread_count(*, user: User) -> int:
    """Visible messages the user has not read (archiving marks read), in one query."""
    targeted, everyone = _inbox_halves(user=user)
    unread = Q(state_read_at__isnull=True)
    return (
        targeted.filter(unread)
        .order_by()
        .values("id")
        .union(everyone.filter(unread).order_by().values("id"), all=True)
        .count()
    )


def message_stats_for_user(*, user: User) -> dict:
    """seed 001's ``MessageStatsResponse`` for ``user``, plus ``category_counts`` (extension): two
    grouped queries, one per half, summed here."""
    targeted, everyone = _inbox_halves(user=user)
    rows = _state_counts(targeted) + _state_counts(everyone)
    total = sum(r["total"] for r in rows)
    read = sum(r["read"] for r in rows)
    stats = {
        "total_count": total,
        "unread_count": total - read,
        "read_count": read,
        "archived_count": sum(r["archived"] for r in rows),
    }
    for t in MessageType:
        stats[f"{t.value}_count"] = sum(r[t.value] for r in rows)
    per_category: dict = {}
    for r in rows:
        entry = per_category.setdefault(
            r["category_id"],
            {
                "id": r["category_id"],
                "name": r["category__name"] or "未分类",
                "position": r["category__position"],
                "count": 0,
                "unread_count": 0,
            },
        )
        entry["count"] += r["total"]
        entry["unread_count"] += r["total"] - r["read"]
    ordered = sorted(per_category.values(), key=lambda e: (e["id"] is None, e["position"] or 0, e["id"] or 0))
    stats["category_counts"] = [{k: v for k, v in e.items() if k != "position"} for e in ordered]
    return stats


# --- Senders ----------------------------------------------------------------------------------


def message_list_for_sender(*, user: User, filters=None) -> QuerySet[Message]:
    """Messages a sender manages: their own, or all of them for a superuser."""
    queryset = Message.objects.select_related("sender", "category").order_by("-published_at", "-id")
    if not user.is_superuser:
        queryset = queryset.filter(sender=user)
    return apply_filterset(SenderMessageFilterSet, filters or {}, queryset)


def message_get_for_sender(*, user: User, message_id: int, with_recipients: bool = False) -> Message:
    """A message ``user`` may manage (their own; any for a superuser), else 404.

    ``with_recipients`` loads its first ``MESSAGING_DETAIL_RECIPIENTS`` recipient rows, with
    their users, as ``recipient_rows`` (the full list is paginated: ``message_recipient_list``).
    """
    queryset = Message.objects.select_related("sender", "category")
    if not user.is_superuser:
        queryset = queryset.filter(sender=user)
    message = queryset.filter(pk=message_id).first()
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    if with_recipients:
        message.recipient_rows = list(
            message_recipient_list(message=message)[: settings.MESSAGING_DETAIL_RECIPIENTS]
        )
    return message


def message_recipient_list(*, message: Message, filters=None) -> QuerySet[MessageRecipient]:
    """A message's recipient rows with each recipient, in send order, filtered by state.

    For a global message these are the users who have read or archived it so far.
    """
    queryset = MessageRecipient.objects.filter(message=message).select_related("recipient").order_by("id")
    return apply_filterset(RecipientFilterSet, filters or {}, queryset)


# --- Read rates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadFigures:
    audience: int
    read: int

    @property
    def rate(self) -> float | None:
        if not self.audience:
            return None
        return min(1.0, self.read / self.audience)


def message_read_figures(*, message: Message) -> ReadFigures:
    read = MessageRecipient.objects.filter(message=message, read_at__isnull=False).count()
    return ReadFigures(audience=message.audience_size, read=read)
