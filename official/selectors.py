"""Reads of the official account, shaped for their callers (other apps use these names)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from .models import (
    Follower,
    FollowerLocation,
    InboundMessage,
    InboxThread,
    MassSend,
    ServiceMessage,
    Topic,
    TopicPost,
)

CS_WINDOW = timedelta(hours=48)  # customer-service messages: within 48 h of the follower's last message
_BATCH = 2000


def official_enabled() -> bool:
    """Whether the official account is configured (pages may offer the WeChat login then)."""
    return bool(settings.WECHAT_OFFICIAL_ENABLED)


def official_openids_for_users(*, user_ids: Iterable[int] | QuerySet) -> dict[int, str]:
    """``{user id: openid}`` of the users bound to a follower who currently follows the account
    (template messages reach only followers). Users without one are absent. One query per 2 000
    ids; one in all for a queryset of ids (a subquery: a fan-out's recipients)."""
    if isinstance(user_ids, QuerySet):
        return dict(
            Follower.objects.filter(subscribed=True, user_id__in=user_ids).values_list("user_id", "openid")
        )
    ids = sorted({int(pk) for pk in user_ids})
    found: dict[int, str] = {}
    for start in range(0, len(ids), _BATCH):
        found.update(
            Follower.objects.filter(subscribed=True, user_id__in=ids[start : start + _BATCH]).values_list(
                "user_id", "openid"
            )
        )
    return found


def official_openid_of(*, user_id) -> QuerySet[Follower]:
    """The openid of the user ``user_id`` (an ``OuterRef``: one subquery in a caller's read of
    many users) if they follow the account — ``official_openids_for_users``' rule, per row."""
    return Follower.objects.filter(user_id=user_id, subscribed=True).values("openid")[:1]


def follower_for_user(*, user) -> Follower | None:
    return Follower.objects.filter(user=user).first() if user and user.pk else None


@dataclass(frozen=True)
class Window:
    is_open: bool
    closes_at: datetime | None

    def remaining(self, now: datetime | None = None) -> timedelta:
        if not self.closes_at:
            return timedelta(0)
        return max(timedelta(0), self.closes_at - (now or timezone.now()))


def follower_window(*, follower: Follower, now: datetime | None = None) -> Window:
    """WeChat's 48-hour customer-service window: open while the follower's last message is less
    than 48 hours old (and they still follow)."""
    now = now or timezone.now()
    if follower.last_message_at is None:
        return Window(False, None)
    closes = follower.last_message_at + CS_WINDOW
    return Window(follower.subscribed and closes > now, closes)


def follower_recent_position(
    *, user_id: int, max_age_minutes: int | None = None, now: datetime | None = None
) -> FollowerLocation | None:
    """The user's position as their WeChat last reported it, if within ``max_age_minutes``
    (default ACTIVITIES_GEOFENCE_POSITION_MINUTES): what the activity geofence may trust. Only
    the geofence reads it; people see positions in the admin with ``view_followerlocation``."""
    now = now or timezone.now()
    minutes = settings.ACTIVITIES_GEOFENCE_POSITION_MINUTES if max_age_minutes is None else max_age_minutes
    if minutes <= 0:
        return None
    return FollowerLocation.objects.filter(
        follower__user_id=user_id, reported_at__gte=now - timedelta(minutes=minutes)
    ).first()


def template_send_statuses(*, msgids: Iterable[int]) -> dict[int, str]:
    """``{msgid: status}`` from WeChat's TEMPLATESENDJOBFINISH reports (``success``,
    ``failed:user block``, ``failed: system failed``) for template messages sent with
    ``send_template_message``; msgids without a report yet are absent."""
    ids = sorted({int(i) for i in msgids})
    found: dict[int, str] = {}
    for start in range(0, len(ids), _BATCH):
        found.update(
            InboundMessage.objects.filter(
                event="templatesendjobfinish", msg_id__in=ids[start : start + _BATCH]
            ).values_list("msg_id", "event_key")
        )
    return found


# --- Mass sends -----------------------------------------------------------------------------------------


def mass_sends_of_message(*, message_id) -> QuerySet[MassSend]:
    """The mass sends made for a message (drafts are not); ``message_id`` may be an ``OuterRef``
    (the delivery report asks in its own query whether there are any)."""
    return MassSend.objects.filter(message_id=message_id).exclude(status="draft")


def mass_send_totals_for_message(*, message_id: int) -> dict | None:
    """The official-account mass sends made for ``message_id`` and WeChat's totals for them
    (MASSSENDJOBFINISH; approximate by WeChat's own account, ``sent + error = filtered``), for the
    delivery report. ``None`` when the message had no mass send. One query.

    ``{"sends", "finished", "total", "filtered", "sent", "error"}``: ``finished`` counts the sends
    whose report came; the totals add up those reports.
    """
    figures = mass_sends_of_message(message_id=message_id).aggregate(
        sends=Count("pk"),
        finished=Count("pk", filter=Q(finished_at__isnull=False)),
        total=Sum("total_count"),
        filtered=Sum("filter_count"),
        sent=Sum("sent_count"),
        error=Sum("error_count"),
    )
    if not figures["sends"]:
        return None
    return {key: value or 0 for key, value in figures.items()}


# --- Topics -----------------------------------------------------------------------------------------------


def topic_hot_list(
    *, days: int | None = None, limit: int = 10, now: datetime | None = None
) -> QuerySet[Topic]:
    """The hottest visible topics: most visible posts within the last ``days`` (default
    WECHAT_OFFICIAL_HOT_TOPIC_DAYS), then the most recent; each with ``recent_posts``. One query."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.WECHAT_OFFICIAL_HOT_TOPIC_DAYS if days is None else days)
    recent = Q(posts__is_hidden=False, posts__created_at__gte=since)
    return (
        Topic.objects.filter(is_hidden=False, last_post_at__gte=since)
        .annotate(recent_posts=Count("posts", filter=recent))
        .filter(recent_posts__gt=0)
        .order_by("-recent_posts", "-last_post_at", "-id")[:limit]
    )


def topic_get_visible(*, topic_id: int) -> Topic | None:
    return Topic.objects.filter(pk=topic_id, is_hidden=False).first()


def topic_post_list(*, topic: Topic) -> QuerySet[TopicPost]:
    """A topic's visible posts: pinned first, then newest (paginate it), with their authors."""
    return (
        TopicPost.objects.filter(topic=topic, is_hidden=False)
        .select_related("author")
        .order_by("-is_pinned", "-created_at", "-id")
    )


def topic_post_list_latest(*, name: str, limit: int = 5) -> QuerySet[TopicPost]:
    return (
        TopicPost.objects.filter(topic__name=name, topic__is_hidden=False, is_hidden=False)
        .select_related("author")
        .order_by("-is_pinned", "-created_at", "-id")[:limit]
    )


# --- The inbox ---------------------------------------------------------------------------------------------


def thread_list() -> QuerySet[InboxThread]:
    return InboxThread.objects.select_related("follower__user", "assignee")


def thread_conversation(*, thread: InboxThread, limit: int = 100) -> list:
    """The follower's last ``limit`` messages and the replies to them, oldest first: rows with
    ``at``, ``incoming``, ``kind`` and the content. Two queries."""
    incoming = list(
        InboundMessage.objects.filter(follower_id=thread.follower_id)
        .exclude(kind="event")
        .order_by("-received_at", "-id")[:limit]
    )
    outgoing = list(
        ServiceMessage.objects.filter(follower_id=thread.follower_id)
        .select_related("sent_by")
        .order_by("-created_at", "-id")[:limit]
    )
    rows = [{"at": m.received_at, "incoming": True, "message": m} for m in incoming]
    rows += [{"at": m.created_at, "incoming": False, "message": m} for m in outgoing]
    rows.sort(key=lambda row: row["at"])
    return rows[-limit:]
