"""Writes for meeting rooms: booking, changing and cancelling, recurring series, reminders.

**No double booking, with any number of web workers.** Every write that creates or moves a booking
locks the room row (``SELECT … FOR UPDATE``) and checks for an overlapping booking inside the same
transaction, so two requests for the same room are serialised by the database and the second sees
the first's row. The API and the admin go through these functions alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from wechathhu.core.errors import NON_FIELD_ERRORS, ApplicationError

from . import timegrid
from .errors import ReservationErrorCode as Code
from .models import Meetingroom, Reservation, ReservationSeries, SeriesFrequency
from .notifications import notify_booker
from .selectors import reservation_overlapping

OCCUPIED = "会议室在该时间段已经被占用。"
END_NOT_FUTURE = "结束时间必须在现在以后。"


def _fail(message: str, code: Code, **extra) -> ApplicationError:
    return ApplicationError(message, field=NON_FIELD_ERRORS, code=code, extra=extra or None)


def _minutes_text(minutes: int) -> str:
    return f"{minutes // 60}小时" if minutes % 60 == 0 and minutes >= 60 else f"{minutes}分钟"


def duration_rule_message() -> str:
    return (
        f"预约会议时间不得少于{_minutes_text(settings.RESERVATION_MIN_MINUTES)}，"
        f"不得超过{_minutes_text(settings.RESERVATION_MAX_MINUTES)}。"
    )


def reservation_check_rules(
    *,
    meetingroom: Meetingroom,
    reserve_from: datetime,
    reserve_to: datetime,
    override_rules: bool = False,
    now: datetime | None = None,
) -> None:
    """Raise ``ApplicationError`` (about the input as a whole) when a booking breaks a rule.

    Everyone: start before end, both on the grid, at most ``RESERVATION_HARD_MAX_MINUTES``.
    Unless staff override them: the room is open for booking, the end is in the future and the
    start not in the past (the current grid cell still counts), the duration within MIN..MAX, the
    start within the advance window, and the booking inside the room's bookable hours.
    """
    now = now or timezone.now()
    grid = settings.RESERVATION_GRID_MINUTES
    if reserve_from >= reserve_to:
        raise _fail("开始时间必须早于结束时间。", Code.INVALID_SPAN)
    if not (timegrid.on_grid(reserve_from, grid) and timegrid.on_grid(reserve_to, grid)):
        raise _fail(f"预约的开始和结束时间必须以{grid}分钟为单位（如整点或半点）。", Code.INVALID_SPAN)
    length = reserve_to - reserve_from
    if length > timedelta(minutes=settings.RESERVATION_HARD_MAX_MINUTES):
        raise _fail(
            f"单次预约不得超过{_minutes_text(settings.RESERVATION_HARD_MAX_MINUTES)}。", Code.INVALID_SPAN
        )
    if override_rules:
        return
    if not meetingroom.is_active:
        raise _fail("该会议室暂停预约。", Code.ROOM_CLOSED)
    if reserve_to <= now:
        raise _fail(END_NOT_FUTURE, Code.IN_THE_PAST)
    offset = timegrid.utc_offset_seconds(now)
    current_cell = timegrid.grid_floor(timegrid.to_ts(now), grid * 60, offset)
    if timegrid.to_ts(reserve_from) < current_cell:
        raise _fail("开始时间不能早于现在。", Code.IN_THE_PAST)
    if not (
        timedelta(minutes=settings.RESERVATION_MIN_MINUTES)
        <= length
        <= timedelta(minutes=settings.RESERVATION_MAX_MINUTES)
    ):
        raise _fail(duration_rule_message(), Code.INVALID_SPAN)
    if reserve_from > now + timedelta(days=settings.RESERVATION_MAX_ADVANCE_DAYS):
        raise _fail(f"最多只能提前{settings.RESERVATION_MAX_ADVANCE_DAYS}天预约。", Code.TOO_FAR_AHEAD)
    if meetingroom.has_bookable_hours:
        start, end = timezone.localtime(reserve_from), timezone.localtime(reserve_to)
        day_end = datetime.combine(start.date(), meetingroom.bookable_to, start.tzinfo)
        day_start = datetime.combine(start.date(), meetingroom.bookable_from, start.tzinfo)
        if not (day_start <= start and end <= day_end):
            raise _fail(
                f"该会议室的可预约时间为每天 {meetingroom.bookable_from:%H:%M}–{meetingroom.bookable_to:%H:%M}。",
                Code.OUTSIDE_HOURS,
            )


def reservation_check_quota(*, user: User, adding: int = 1) -> None:
    """A user (not staff) holds at most ``RESERVATION_MAX_ACTIVE_PER_USER`` bookings that have not
    ended. Counted under the user's row lock, so concurrent requests of one user (to any rooms)
    are counted one after the other. Call inside the booking's transaction, after the room's lock
    (the one order of locks every booking path takes)."""
    limit = settings.RESERVATION_MAX_ACTIVE_PER_USER
    if not limit or user.is_staff:
        return
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    held = Reservation.objects.filter(user=user, reserve_to__gt=timezone.now()).count()
    if held + adding > limit:
        raise _fail(
            f"每人最多同时持有 {limit} 个未结束的预约（您已有 {held} 个"
            + (f"，本次要预约 {adding} 个" if adding > 1 else "")
            + "），请先取消不需要的预约。",
            Code.QUOTA_EXCEEDED,
            limit=limit,
            held=held,
        )


def meetingroom_lock(*, meetingroom_id: int) -> Meetingroom:
    """Lock the room row until the current transaction ends; callers must be in ``atomic``."""
    return Meetingroom.objects.select_for_update().get(pk=meetingroom_id)


def _has_overlap(*, meetingroom: Meetingroom, start: datetime, end: datetime, exclude_id=None) -> bool:
    """Caller must hold the room lock (``meetingroom_lock``), else the answer may be stale."""
    bookings = Reservation.objects.filter(meetingroom=meetingroom).filter(
        reservation_overlapping(start=start, end=end)
    )
    if exclude_id is not None:
        bookings = bookings.exclude(pk=exclude_id)
    return bookings.exists()


def reservation_check_available(
    *,
    meetingroom_id: int,
    reserve_from: datetime,
    reserve_to: datetime,
    exclude_id: int | None = None,
    override_rules: bool = False,
) -> Meetingroom:
    """Lock the room, check the rules and that the span is free; returns the locked room.

    Must run inside a transaction: the lock (and so the answer) holds until it ends. The admin
    calls this while validating its form, inside the transaction that then saves the booking.
    """
    room = meetingroom_lock(meetingroom_id=meetingroom_id)
    reservation_check_rules(
        meetingroom=room, reserve_from=reserve_from, reserve_to=reserve_to, override_rules=override_rules
    )
    if _has_overlap(meetingroom=room, start=reserve_from, end=reserve_to, exclude_id=exclude_id):
        raise _fail(OCCUPIED, Code.OCCUPIED)
    return room


@transaction.atomic
def reservation_create(
    *,
    user: User,
    meetingroom: Meetingroom,
    reserve_from: datetime,
    reserve_to: datetime,
    description: str,
    override_rules: bool = False,
) -> Reservation:
    """Book ``meetingroom`` for ``[reserve_from, reserve_to)``; a conflict is ``OCCUPIED``.

    ``override_rules`` (staff in the admin) lifts the duration, advance, hours and past-time rules,
    never the overlap check.
    """
    room = reservation_check_available(
        meetingroom_id=meetingroom.pk,
        reserve_from=reserve_from,
        reserve_to=reserve_to,
        override_rules=override_rules,
    )
    if not override_rules:  # after the room's lock: every booking path locks room, then user
        reservation_check_quota(user=user)
    reservation = Reservation(
        user=user, meetingroom=room, reserve_from=reserve_from, reserve_to=reserve_to, description=description
    )
    reservation.full_clean()
    reservation.save()
    return reservation


@transaction.atomic
def reservation_update(
    *,
    reservation: Reservation,
    meetingroom: Meetingroom,
    reserve_from: datetime,
    reserve_to: datetime,
    description: str,
    user: User | None = None,
    override_rules: bool = False,
    notify_by: User | None = None,
) -> Reservation:
    """Move or edit a booking, under the lock of its old and new rooms (locked in id order).

    ``notify_by`` (staff changing someone's booking) tells the booker when the room or the time
    changed. A booking whose start moved is reminded again.
    """
    old = Reservation.objects.select_related("meetingroom").get(pk=reservation.pk)
    for room_id in sorted({old.meetingroom_id, meetingroom.pk}):
        meetingroom_lock(meetingroom_id=room_id)
    room = reservation_check_available(
        meetingroom_id=meetingroom.pk,
        reserve_from=reserve_from,
        reserve_to=reserve_to,
        exclude_id=reservation.pk,
        override_rules=override_rules,
    )
    reservation.meetingroom = room
    if user is not None:
        reservation.user = user
    reservation.reserve_from = reserve_from
    reservation.reserve_to = reserve_to
    reservation.description = description
    # The marker is the database's (this instance may be stale); a new start is reminded again.
    reservation.reminded_at = None if reserve_from != old.reserve_from else old.reminded_at
    reservation.full_clean()
    reservation.save()
    moved = (old.meetingroom_id, old.reserve_from, old.reserve_to) != (room.pk, reserve_from, reserve_to)
    if notify_by is not None and moved and reservation.user_id != notify_by.pk:
        notify_booker(
            user_id=reservation.user_id,
            title="会议室预约已被调整",
            content=f"您预约的{_booking_text(old)}已被管理员调整为{_booking_text(reservation)}"
            f"（操作人：{notify_by.full_name or notify_by.username}）。如有疑问请联系管理员。",
        )
    return reservation


@transaction.atomic
def reservation_cancel(*, reservation: Reservation, by: User, notify: bool = False) -> None:
    """Cancel (delete) a booking. ``notify`` tells the booker through the message center.

    Users may cancel their own bookings until they end (the selector enforces it); staff may
    cancel any. Cancelling twice is harmless.
    """
    booker_id, text = reservation.user_id, _booking_text(reservation)
    deleted, _ = Reservation.objects.filter(pk=reservation.pk).delete()
    if deleted and notify and booker_id != by.pk:
        notify_booker(
            user_id=booker_id,
            title="会议室预约已被取消",
            content=f"您预约的{text}已被管理员取消（操作人：{by.full_name or by.username}）。如有疑问请联系管理员。",
        )


def _booking_text(reservation: Reservation) -> str:
    start, end = timezone.localtime(reservation.reserve_from), timezone.localtime(reservation.reserve_to)
    return f"会议室「{reservation.meetingroom.name}」{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


# --- Recurring bookings ---------------------------------------------------------------------------


class OnConflict:
    ABORT = "abort"
    SKIP = "skip"
    CHOICES = ((ABORT, "有冲突则全部不预约"), (SKIP, "跳过冲突日期，预约其余日期"))


@dataclass
class SeriesPlan:
    """What a series books: every occurrence, and the dates that clash with existing bookings."""

    occurrences: list[tuple[datetime, datetime]]
    conflicts: list[date] = field(default_factory=list)
    series: ReservationSeries | None = None
    booked: list[Reservation] = field(default_factory=list)

    @property
    def free(self) -> list[tuple[datetime, datetime]]:
        clashing = set(self.conflicts)
        return [o for o in self.occurrences if timezone.localtime(o[0]).date() not in clashing]


def series_dates(
    *,
    frequency: str,
    weekdays: list[int],
    start_date: date,
    until: date | None,
    count: int | None,
) -> list[date]:
    """The dates of a series (daily, or weekly on ISO ``weekdays``), up to ``until`` or ``count``."""
    limit = settings.RESERVATION_SERIES_MAX_OCCURRENCES
    if frequency not in SeriesFrequency.values:
        raise ApplicationError(
            "重复方式只能是 daily（每天）或 weekly（每周）。", field="frequency", code=Code.INVALID_RULE
        )
    if frequency == SeriesFrequency.WEEKLY and not weekdays:
        raise ApplicationError("每周重复时必须选择星期几。", field="weekdays", code=Code.INVALID_RULE)
    if until is None and count is None:
        raise _fail("必须给出截止日期（until）或重复次数（count）。", Code.INVALID_RULE)
    if until is not None and until < start_date:
        raise ApplicationError("截止日期不能早于首次日期。", field="until", code=Code.INVALID_RULE)
    dates: list[date] = []
    day = start_date
    while (until is None or day <= until) and (count is None or len(dates) < count):
        if frequency == SeriesFrequency.DAILY or day.isoweekday() in weekdays:
            dates.append(day)
            if len(dates) > limit:
                raise _fail(f"重复预约最多{limit}次。", Code.INVALID_RULE)
        day += timedelta(days=1)
    if not dates:
        raise _fail("按该重复规则没有任何预约日期。", Code.INVALID_RULE)
    return dates


def _occurrence(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


@transaction.atomic
def series_create(
    *,
    user: User,
    meetingroom: Meetingroom,
    description: str,
    frequency: str,
    weekdays: list[int],
    start_date: date,
    until: date | None,
    count: int | None,
    start_time: time,
    end_time: time,
    on_conflict: str = OnConflict.ABORT,
    dry_run: bool = False,
    override_rules: bool = False,
) -> SeriesPlan:
    """Book a recurring series, checked occurrence by occurrence under the room lock.

    Each occurrence must pass the booking rules (else 400 naming the date). Occurrences that
    clash with existing bookings are listed in ``conflicts``: with ``on_conflict="abort"`` nothing
    is booked (400 listing the dates); with ``"skip"`` the others are booked. ``dry_run`` only
    answers the plan. Nothing is half-written: it is one transaction.
    """
    if start_time >= end_time:
        raise _fail("开始时间必须早于结束时间。", Code.INVALID_SPAN)
    dates = series_dates(
        frequency=frequency, weekdays=weekdays, start_date=start_date, until=until, count=count
    )
    room = meetingroom_lock(meetingroom_id=meetingroom.pk)
    plan = SeriesPlan(occurrences=[(_occurrence(d, start_time), _occurrence(d, end_time)) for d in dates])
    for start, end in plan.occurrences:
        try:
            reservation_check_rules(
                meetingroom=room, reserve_from=start, reserve_to=end, override_rules=override_rules
            )
        except ApplicationError as exc:
            raise _fail(f"{timezone.localtime(start):%Y-%m-%d}：{exc.message}", exc.code) from exc
    first, last = plan.occurrences[0][0], plan.occurrences[-1][1]
    existing = list(
        Reservation.objects.filter(meetingroom=room)
        .filter(reservation_overlapping(start=first, end=last))
        .values_list("reserve_from", "reserve_to")
    )
    plan.conflicts = [
        timezone.localtime(start).date()
        for start, end in plan.occurrences
        if any(b0 < end and start < b1 for b0, b1 in existing)
    ]
    if dry_run:
        return plan
    conflict_text = "、".join(f"{d:%Y-%m-%d}" for d in plan.conflicts)
    if plan.conflicts and on_conflict != OnConflict.SKIP:
        raise _fail(
            f"以下日期会议室在该时间段已经被占用：{conflict_text}。",
            Code.SERIES_CONFLICTS,
            conflicts=_iso(plan.conflicts),
        )
    if not plan.free:
        raise _fail(
            "所有日期会议室均已被占用，未预约任何时段。",
            Code.SERIES_CONFLICTS,
            conflicts=_iso(plan.conflicts),
        )
    if not override_rules:
        reservation_check_quota(user=user, adding=len(plan.free))
    series = ReservationSeries(
        user=user,
        meetingroom=room,
        description=description,
        frequency=frequency,
        weekdays=",".join(str(d) for d in sorted(set(weekdays)))
        if frequency == SeriesFrequency.WEEKLY
        else "",
        start_date=start_date,
        until=until,
        count=count,
        start_time=start_time,
        end_time=end_time,
    )
    series.full_clean()
    series.save()
    rows = []
    for start, end in plan.free:
        row = Reservation(
            user=user,
            meetingroom=room,
            reserve_from=start,
            reserve_to=end,
            description=description,
            series=series,
        )
        row.full_clean(exclude=["user", "meetingroom", "series"])
        rows.append(row)
    plan.series = series
    plan.booked = Reservation.objects.bulk_create(rows)
    return plan


def _iso(days: list[date]) -> list[str]:
    return [d.isoformat() for d in days]


@transaction.atomic
def series_cancel(*, series: ReservationSeries, from_date: date | None = None) -> int:
    """Cancel the occurrences of a series that have not ended (from ``from_date`` on, if given).

    Returns how many were cancelled; occurrences already over are kept as history.
    """
    occurrences = series.occurrences.filter(reserve_to__gt=timezone.now())
    if from_date is not None:
        occurrences = occurrences.filter(reserve_from__gte=_occurrence(from_date, time.min))
    cancelled, _ = occurrences.delete()
    return cancelled


# --- Reminders ------------------------------------------------------------------------------------


def reservation_send_due_reminders(*, now: datetime | None = None, batch: int = 500) -> int:
    """Remind the bookers of meetings starting within ``RESERVATION_REMINDER_LEAD_MINUTES``.

    Idempotent: each booking is reminded once (``reminded_at``), each in its own transaction, so a
    re-run or a second worker sends nothing twice. Returns how many reminders were sent.
    """
    lead = settings.RESERVATION_REMINDER_LEAD_MINUTES
    if lead <= 0:
        return 0
    now = now or timezone.now()
    due = (
        Reservation.objects.filter(
            reminded_at__isnull=True, reserve_from__gt=now, reserve_from__lte=now + timedelta(minutes=lead)
        )
        .order_by("reserve_from")
        .values_list("pk", flat=True)[:batch]
    )
    return sum(reservation_remind(reservation_id=pk, now=now) for pk in list(due))


@transaction.atomic
def reservation_remind(*, reservation_id: int, now: datetime | None = None) -> bool:
    """Send one booking's reminder, and mark it, in one transaction (a no-op once marked)."""
    reservation = (
        Reservation.objects.select_for_update(skip_locked=True)
        .filter(pk=reservation_id, reminded_at__isnull=True)
        .select_related("meetingroom")
        .first()
    )
    if reservation is None:
        return False
    room = reservation.meetingroom
    place = f"{room.location} {room.name}".strip()
    notify_booker(
        user_id=reservation.user_id,
        title="会议即将开始",
        content=f"您预约的{_booking_text(reservation)}即将开始（地点：{place}）。预约原因：{reservation.description}",
        type="reminder",
        expires_at=reservation.reserve_to,
    )
    reservation.reminded_at = now or timezone.now()
    reservation.save(update_fields=["reminded_at", "updated_at"])
    return True
