"""The daily digest (每日播报): one summary a day, at the time each subscriber chose.

The beat job (``messaging.digest_due``, every minute) reads only the subscribers whose digest time
is this minute (and the few minutes before, if a run was missed): an index lookup per minute, so it
costs the same whatever the number of users. It writes one ``DigestDelivery`` per subscriber and
day (a unique constraint: a re-run writes nothing), on the channel the delivery rules pick; the
content is built when the outbox sends the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from activities.selectors import activities_enrolled_in_span
from reservations.selectors import reservation_list_for_user_in_span
from wechathhu.core import outbox
from wechathhu.core.bulk import db_date, db_datetime, insert_ignore_returning

from .delivery import (
    ROW_FIELDS,
    Addresses,
    Content,
    Plan,
    channels_enabled,
    official_account_enabled,
    plan_channels,
    row_values,
    send_to_user,
)
from .models import DeliveryPreference, DigestDelivery, DigestItem, MessagePriority
from .preferences import DeliveryPreferences
from .selectors import message_inbox

UNREAD_TITLES = 10
INSERT_BATCH = 5000  # rows per statement of the beat job (~110 bytes each: far below max_allowed_packet)


@dataclass
class Digest:
    """What one user's digest of one day says."""

    date: dt.date
    unread_count: int = 0
    unread: list[tuple[int, str]] = field(default_factory=list)  # (message id, title)
    bookings: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    item: DigestItem | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.unread_count or self.bookings or self.activities or self.item)

    @property
    def title(self) -> str:
        return f"每日播报 {self.date.month}月{self.date.day}日"

    @property
    def summary(self) -> str:
        parts = [f"{self.unread_count} 条未读消息"]
        if self.bookings:
            parts.append(f"{len(self.bookings)} 个会议室预约")
        if self.activities:
            parts.append(f"{len(self.activities)} 个活动")
        return "，".join(parts) + ("；" + self.item.title if self.item else "")

    def as_text(self) -> str:
        lines = [f"{self.title}（北京时间）", ""]
        lines.append(f"【未读消息】{self.unread_count} 条")
        lines += [f"  · {title}" for _pk, title in self.unread]
        if self.unread_count > len(self.unread):
            lines.append(f"  · ……还有 {self.unread_count - len(self.unread)} 条")
        if self.bookings:
            lines += ["", "【今日会议室预约】", *(f"  · {b}" for b in self.bookings)]
        if self.activities:
            lines += ["", "【今日活动】", *(f"  · {a}" for a in self.activities)]
        if self.item:
            lines += ["", f"【{self.item.get_kind_display()}】{self.item.title}"]
            lines += [line for line in (self.item.body, self.item.link) if line]
        return "\n".join(lines)


def _day_span(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _hm(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def digest_for_user(*, user: User, day: dt.date) -> Digest:
    """``user``'s digest of ``day`` (Beijing time): a handful of queries whatever the data."""
    start, end = _day_span(day)
    inbox = message_inbox(user=user, filters={"is_read": "false"})
    digest = Digest(date=day, unread_count=inbox.count())
    if digest.unread_count:
        digest.unread = [(m.pk, m.title) for m in inbox[:UNREAD_TITLES]]
    digest.bookings = [
        f"{_hm(r.reserve_from)}–{_hm(r.reserve_to)} {r.meetingroom.name}"
        for r in reservation_list_for_user_in_span(user=user, start=start, end=end)
    ]
    for activity in activities_enrolled_in_span(user=user, start=start, end=end):
        clockins = "，".join(
            f"{item.label} {_hm(item.from_time)}–{_hm(item.to_time)}" for item in activity.clockin_items.all()
        )
        place = f" @ {activity.location}" if activity.location else ""
        digest.activities.append(
            f"{_hm(activity.time_start)} {activity.name}{place}"
            + (f"（打卡：{clockins}）" if clockins else "")
        )
    digest.item = DigestItem.objects.filter(date=day).first()
    return digest


def _due_minutes(now: dt.datetime) -> dict[dt.time, dt.date]:
    """The local minutes whose subscribers are due now (this one and the catch-up window), with
    the day each belongs to (a minute before midnight belongs to the day that is ending)."""
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    due = {}
    for back in range(settings.MESSAGING_DIGEST_CATCHUP_MINUTES + 1):
        moment = local - dt.timedelta(minutes=back)
        due.setdefault(moment.time(), moment.date())
    return due


def _due_subscribers(due: dict[dt.time, dt.date]) -> list[tuple]:
    """``(user id, digest time, preferred channel, mini-program openid, official openid, e-mail)``
    of the subscribers due now who have no digest row for their day yet: one read, its cost the
    due minutes' subscribers (index ``delivery_pref_digest_due``, then one primary-key or unique
    lookup per subscriber), never the user count."""
    subscribers = DeliveryPreference.objects.filter(
        digest_enabled=True, digest_time__in=list(due), user__is_active=True
    )
    for day in set(due.values()):  # the catch-up window may span midnight: two days
        times = [time for time, of in due.items() if of == day]
        done = DigestDelivery.objects.filter(user_id=OuterRef("user_id"), date=day)
        subscribers = subscribers.exclude(Q(digest_time__in=times) & Exists(done))
    official = Value("")
    if official_account_enabled():
        from official.selectors import official_openid_of

        official = Coalesce(Subquery(official_openid_of(user_id=OuterRef("user_id"))), Value(""))
    return list(
        subscribers.annotate(openid_oa=official).values_list(
            "user_id", "digest_time", "preferred_channel", "user__wechat_openid", "openid_oa", "user__email"
        )
    )


@transaction.atomic
def digests_queue_due(*, now: dt.datetime | None = None) -> int:
    """The beat job: write today's digest row for every subscriber whose time has come (once a
    day each) and queue them for sending. Returns the rows written this run.

    Four statements whatever the minute holds (the subscribers with their addresses, the rows
    written with one ``INSERT IGNORE … RETURNING`` per ``INSERT_BATCH`` rows,
    the transaction) and the tasks queued after the commit in ``DigestDelivery.outbox_task_batch``
    rows each: the busiest minute's 5 000 subscribers were 100 tasks, one Redis round trip each."""
    now = now or timezone.now()
    enabled = channels_enabled()
    if not enabled:
        return 0
    due = _due_minutes(now)
    stamp = db_datetime(now)
    days = {time: db_date(day) for time, day in due.items()}  # as the database takes them
    rows = []
    plans: dict[tuple, list[Plan]] = {}  # the rule's answer per (preference, reachable channels)
    for pk, digest_time, channel, openid_mp, openid_oa, email in _due_subscribers(due):
        address = Addresses(openid_mp=openid_mp or "", openid_oa=openid_oa or "", email=(email or "").strip())
        key = (channel, *(address.has(c) for c in enabled))
        if key not in plans:
            # Quiet hours and categories do not apply (the subscriber chose this time): the
            # preferred channel is all the rules need.
            prefs = DeliveryPreferences(user_id=pk, preferred_channel=channel, is_default=False)
            plans[key] = plan_channels(
                priority=MessagePriority.NORMAL,
                category_id=None,
                prefs=prefs,
                addresses=address,
                enabled=enabled,
                now=now,
                respect_quiet_hours=False,
            )[:1]
        day = days[digest_time.replace(second=0, microsecond=0)]
        rows += [row_values(plan, now, stamp) + (pk, day, plan.channel) for plan in plans[key]]
    if not rows:
        return 0
    # The unique (user, date) keeps a run racing another from writing a row twice.
    fields = (*ROW_FIELDS, "user", "date", "channel")
    written = insert_ignore_returning(
        DigestDelivery,
        fields,
        rows,
        returning=("id", "status"),
        batch_size=INSERT_BATCH,
    )
    if written is None:  # an engine that returns nothing from an insert: the rows this run wrote
        written = list(
            DigestDelivery.objects.filter(created_at=now, date__in=set(due.values()), attempts=0).values_list(
                "id", "status"
            )
        )
    outbox.enqueue_on_commit(
        DigestDelivery, [pk for pk, status in written if status == outbox.DeliveryStatus.QUEUED]
    )
    return len(written)


def digest_send(delivery: DigestDelivery) -> None:
    """The outbox's send of one digest: built now, skipped when there is nothing to say."""
    digest = digest_for_user(user=delivery.user, day=delivery.date)
    if digest.is_empty:
        raise outbox.Skip("今日没有未读消息、预约、活动或推荐内容。", reason="empty")
    send_to_user(
        channel=delivery.channel,
        user=delivery.user,
        content=Content(
            title=digest.title,
            text=digest.as_text() if delivery.channel == "email" else digest.summary,
            path=f"/m/digest/{delivery.date.isoformat()}/",
            type_label="每日播报",
        ),
    )
