"""The hot list (热度排行): the messages a user can see, ranked by what people did with them lately.

The window is the last ``days`` days: the messages published in it that the user can see (the
inbox's two halves, archived ones included), each scored by

    reads in the window × 1  +  comments × 3  +  votes × 2

then newest first. Reads come from the recipient rows (index ``(message, read_at)``). Comments and
votes are counted when the message carries the counters (``comment_count``, ``vote_count`` — issue
20 items 3 and 5 add them); without them the score is the reads alone, and nothing here changes when
they arrive.

Two queries and the page: the ids of the window's visible messages (``UNION ALL`` of the halves,
each on its own index), then those messages with their score, ordered.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User

from .models import Message, MessageRecipient
from .selectors import _inbox_halves, _with_user_state, with_personal_text

READ_WEIGHT = 1
# Counter columns of a message counted when they exist, with their weight.
OPTIONAL_COUNTERS = {"comment_count": 3, "vote_count": 2}


def _optional_counters() -> dict[str, int]:
    names = {f.attname for f in Message._meta.concrete_fields}
    return {name: weight for name, weight in OPTIONAL_COUNTERS.items() if name in names}


def message_hot_list(*, user: User, days: int, now=None) -> QuerySet[Message]:
    """The user's visible messages published in the last ``days`` days, hottest first, each with
    ``heat`` and ``reads_in_window`` (and the user's state, like the inbox)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    targeted, everyone = _inbox_halves(user=user, now=now)
    ids = list(
        targeted.filter(published_at__gte=since)
        .order_by()
        .values_list("id", flat=True)
        .union(everyone.filter(published_at__gte=since).order_by().values_list("id", flat=True), all=True)
    )
    reads = (
        MessageRecipient.objects.filter(message=OuterRef("pk"), read_at__gte=since)
        .order_by()
        .values("message")
        .annotate(n=Count("id"))
        .values("n")
    )
    heat = F("reads_in_window") * Value(READ_WEIGHT)
    for name, weight in _optional_counters().items():
        heat = heat + Coalesce(F(name), 0) * Value(weight)
    return (
        with_personal_text(_with_user_state(Message.objects.filter(pk__in=ids), user=user))
        .annotate(reads_in_window=Coalesce(Subquery(reads, output_field=IntegerField()), 0))
        .annotate(heat=heat)
        .select_related("sender", "category")
        .order_by("-heat", "-published_at", "-id")
    )
