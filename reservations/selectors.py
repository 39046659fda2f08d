"""Reads for meeting rooms and bookings, each in a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, When
from django.utils import timezone

from accounts.models import User
from accounts.privacy import ContactVisibility
from wechathhu.core.errors import ApplicationError, NotFoundError
from wechathhu.core.functions import EpochSeconds

from . import timegrid
from .errors import ReservationErrorCode
from .models import Meetingroom, Reservation, ReservationSeries


def hard_max_duration() -> timedelta:
    """No booking is longer than this (the services guarantee it): it bounds overlap scans."""
    return timedelta(minutes=settings.RESERVATION_HARD_MAX_MINUTES)


def reservation_overlapping(*, start: datetime, end: datetime) -> Q:
    """Bookings that meet ``[start, end)`` (half-open: back-to-back is not an overlap).

    The extra lower bound on ``reserve_from`` keeps the scan of the (meetingroom, reserve_from,
    reserve_to) index to the window plus one longest booking, however long the room's history.
    """
    return Q(reserve_from__lt=end, reserve_to__gt=start, reserve_from__gt=start - hard_max_duration())


def meetingroom_list(
    *, people_count: int = 0, label: str = "", location: str = "", active_only: bool = True
) -> QuerySet[Meetingroom]:
    rooms = Meetingroom.objects.all()
    if active_only:
        rooms = rooms.filter(is_active=True)
    if people_count:
        rooms = rooms.filter(seats_count__gte=people_count)
    if label:
        rooms = rooms.filter(label__icontains=label)
    if location:
        rooms = rooms.filter(location__icontains=location)
    return rooms.order_by("seats_count", "name", "id")


def meetingroom_location_list() -> list[str]:
    """The locations of the rooms open for booking, in order (one query; a few dozen at most)."""
    return list(
        Meetingroom.objects.filter(is_active=True)
        .order_by("location")
        .values_list("location", flat=True)
        .distinct()
    )


# --- The client's availability view (HEAD form) ----------------------------------------------------


@dataclass
class RoomBookings:
    """A room (a row with ``id``, ``name``, ``seats_count``) and its bookings in the window.

    Each booking is a row with ``start``/``end`` (POSIX seconds), ``description``, the booker's
    ``booker_number``, ``booker_last_name``, ``booker_first_name``, and ``contact``: the booker's
    mobile where their directory privacy lets the viewer see it, else ``None``.
    """

    meetingroom: Any
    reservations: list = field(default_factory=list)


def meetingroom_bookings(
    *,
    start: datetime,
    end: datetime,
    visibility: ContactVisibility,
    people_count: int = 0,
    location: str = "",
) -> list[RoomBookings]:
    """Every active room seating ``people_count``, with the bookings that meet the window.

    Bookings crossing the window's edges are included. Two queries, whatever the numbers. Rows,
    not models (a day over 500 rooms is ~1 500 bookings and bookers), and the privacy rule on the
    booker's phone is applied by the database (``visible_q``), so no booker is loaded whole.
    """
    rooms = meetingroom_list(people_count=people_count, location=location).values_list(
        "id", "name", "seats_count", named=True
    )
    by_room = {room.id: RoomBookings(room) for room in rooms}
    phone_visible = visibility.visible_q("phone", prefix="user__")  # empty: the viewer sees all
    contact = (
        Case(When(phone_visible, then=F("user__phone")), default=None) if phone_visible else F("user__phone")
    )
    if by_room:
        bookings = (
            Reservation.objects.filter(reservation_overlapping(start=start, end=end))
            .filter(meetingroom_id__in=list(by_room))
            .annotate(
                start=EpochSeconds("reserve_from"),
                end=EpochSeconds("reserve_to"),
                booker_number=F("user__username"),
                booker_last_name=F("user__last_name"),
                booker_first_name=F("user__first_name"),
                contact=contact,
            )
            .order_by("meetingroom_id", "reserve_from", "id")
            .values_list(
                "meetingroom_id",
                "start",
                "end",
                "description",
                "booker_number",
                "booker_last_name",
                "booker_first_name",
                "contact",
                named=True,
            )
        )
        for booking in bookings:
            by_room[booking.meetingroom_id].reservations.append(booking)
    return list(by_room.values())


# --- Seed 002's search: rooms free for a window, or free slots of a length -------------------------


SEARCH_ROOM_FIELDS = (
    "id",
    "name",
    "location",
    "label",
    "seats_count",
    "description",
    "bookable_from",
    "bookable_to",
)


@dataclass
class RoomChoices:
    """A room with free time, as its free runs (each at least the search's ``length`` long).

    ``meetingroom`` has the attributes ``SEARCH_ROOM_FIELDS`` (a light row, not a model).
    """

    meetingroom: Any
    runs: list[timegrid.Interval]


@dataclass
class RoomSearch:
    """The answer of ``meetingroom_search``: the slot geometry and the rooms grouped by location.

    Slots are not expanded here: a week over 500 rooms is ~170 000 of them, and rooms share most
    of their slot times, so the API renders them from ``runs`` by grid index (``slot_indexes``).
    ``choices`` expands one room for everyone else.
    """

    origin: int  # POSIX seconds of the first grid point of the window: every slot starts on the grid
    grid: int
    length: int
    step: int  # a multiple of ``grid`` (checked at start-up)
    groups: list[tuple[str, list[RoomChoices]]] = field(default_factory=list)

    def choices(self, room: RoomChoices) -> list[timegrid.Interval]:
        return timegrid.slots(room.runs, length=self.length, step=self.step)

    def slot_indexes(self, run: timegrid.Interval) -> slice:
        """The slots of ``run`` as a slice of grid points counted from ``origin``."""
        return timegrid.slot_indexes(
            run, origin=self.origin, grid=self.grid, length=self.length, step=self.step
        )


def search_window_check(*, start: datetime, end: datetime) -> None:
    """A search window the availability views accept: start before end, at most
    ``RESERVATION_SEARCH_MAX_DAYS`` long (400 otherwise, saying which)."""
    if start >= end:
        raise ApplicationError("查询的开始时间必须早于结束时间。", code=ReservationErrorCode.INVALID_SPAN)
    if end - start > timedelta(days=settings.RESERVATION_SEARCH_MAX_DAYS):
        raise ApplicationError(
            f"查询的时间跨度不得超过{settings.RESERVATION_SEARCH_MAX_DAYS}天。",
            code=ReservationErrorCode.INVALID_SPAN,
        )


def search_length_check(*, minutes: int | None) -> timedelta | None:
    """Seed 002's ``length`` (minutes) as a duration: within the booking rules' range and on the
    booking grid, since every offered slot must be bookable; ``None`` stays ``None``."""
    if minutes is None:
        return None
    low, high = settings.RESERVATION_MIN_MINUTES, settings.RESERVATION_MAX_MINUTES
    grid = settings.RESERVATION_GRID_MINUTES
    if not low <= minutes <= high:
        raise ApplicationError(
            f"预约时长（length）必须在{low}到{high}分钟之间。", code=ReservationErrorCode.INVALID_QUERY
        )
    if minutes % grid:
        raise ApplicationError(
            f"预约时长（length）必须是{grid}分钟的整数倍。", code=ReservationErrorCode.INVALID_QUERY
        )
    return timedelta(minutes=minutes)


def search_end_check(*, end: datetime) -> None:
    """A free-slot search looks forward: its window must end in the future."""
    if end <= timezone.now():
        raise ApplicationError("结束时间必须在现在以后。", code=ReservationErrorCode.IN_THE_PAST)


def meetingroom_search(
    *,
    start: datetime,
    end: datetime,
    length: timedelta | None = None,
    people_count: int = 0,
    label: str = "",
    location: str = "",
    now: datetime | None = None,
) -> RoomSearch:
    """Rooms with free time in ``[start, end)``, grouped by location (seed 002 §2, original §5a).

    Without ``length``: the rooms free for the whole window (one choice, the window). With it: for
    each room, the slots of ``length`` (see ``timegrid``: no free run long enough is ever lost).
    Only bookable time is offered: from the current grid cell on, starting within the advance
    window. Rooms in a location are ordered by seats then name; locations by their smallest
    room, then name. Two queries, however many rooms and bookings.
    """
    grid = settings.RESERVATION_GRID_MINUTES * 60
    step = max(settings.RESERVATION_SLOT_STEP_MINUTES * 60, grid)
    offset = timegrid.utc_offset_seconds(start)
    now = now or timezone.now()
    current_cell = timegrid.grid_floor(timegrid.to_ts(now), grid, offset)
    start = max(start, datetime.fromtimestamp(current_cell, start.tzinfo))
    last_start = now + timedelta(days=settings.RESERVATION_MAX_ADVANCE_DAYS)
    if length is not None:
        end = min(end, last_start + length)
    ws = timegrid.grid_ceil(timegrid.to_ts(start), grid, offset)
    we = timegrid.grid_floor(timegrid.to_ts(end), grid, offset)
    # The whole-window form is the slot search with one slot as long as the window.
    slot_length = int(length.total_seconds()) if length is not None else we - ws
    result = RoomSearch(origin=ws, grid=grid, length=slot_length, step=step)
    if start > last_start or slot_length <= 0 or we - ws < slot_length:
        return result
    # Rows, not models: building 500 model instances cost more than the query.
    rooms = list(
        meetingroom_list(people_count=people_count, label=label, location=location).values_list(
            *SEARCH_ROOM_FIELDS, named=True
        )
    )
    if not rooms:
        return result
    busy = _busy_intervals(room_ids=[room.id for room in rooms], start=start, end=end)
    tz = timezone.get_current_timezone()
    opened_by_hours: dict = {}  # rooms share their bookable hours
    groups: dict[str, list[RoomChoices]] = {}
    for room in rooms:
        has_hours = room.bookable_from is not None and room.bookable_to is not None
        hours = (room.bookable_from, room.bookable_to) if has_hours else None
        opened = opened_by_hours.get(hours)
        if opened is None:
            opened = opened_by_hours[hours] = timegrid.open_intervals(ws, we, hours=hours, tz=tz)
        runs = timegrid.free_runs(opened, busy.get(room.id, ()), grid=grid, offset=offset)
        runs = [run for run in runs if run[1] - run[0] >= slot_length]
        if runs:
            groups.setdefault(room.location, []).append(RoomChoices(room, runs))
    # Rooms arrive ordered by seats then name, so each group's first room is its smallest.
    result.groups = sorted(groups.items(), key=lambda item: (item[1][0].meetingroom.seats_count, item[0]))
    return result


def _busy_intervals(*, room_ids: list[int], start: datetime, end: datetime) -> dict[int, list]:
    """Each room's bookings meeting ``[start, end)`` as POSIX-second intervals, in one query.

    The database computes the seconds (``EpochSeconds``): a week over 500 rooms is ~10 000 rows,
    and turning each pair of columns into aware datetimes and back cost more than the query.
    """
    busy: dict[int, list[timegrid.Interval]] = defaultdict(list)
    rows = (
        Reservation.objects.filter(reservation_overlapping(start=start, end=end))
        .filter(meetingroom_id__in=room_ids)
        .order_by()
        .values_list("meetingroom_id", EpochSeconds("reserve_from"), EpochSeconds("reserve_to"))
    )
    for room_id, b0, b1 in rows:
        busy[room_id].append((b0, b1))
    return busy


# --- Bookings of a user, and the admin's views ---------------------------------------------------


def reservation_list_upcoming(*, user: User) -> QuerySet[Reservation]:
    """The user's bookings that have not ended yet, newest first (as the original)."""
    return (
        Reservation.objects.filter(user=user, reserve_to__gt=timezone.now())
        .select_related("meetingroom")
        .order_by("-created_at", "-id")
    )


def reservation_get_for_user(*, user: User, reservation_id: int) -> Reservation:
    """The user's own booking that has not ended; anything else is a 404 (existence not leaked)."""
    reservation = reservation_list_upcoming(user=user).filter(pk=reservation_id).first()
    if reservation is None:
        raise NotFoundError()
    return reservation


def reservation_list_in_span(
    *, start: datetime, end: datetime, room_ids=(), location: str = ""
) -> QuerySet[Reservation]:
    """Every booking meeting ``[start, end)`` across rooms (the admin's 冲突查询 and calendar)."""
    bookings = Reservation.objects.filter(reservation_overlapping(start=start, end=end))
    if room_ids:
        bookings = bookings.filter(meetingroom_id__in=list(room_ids))
    if location:
        bookings = bookings.filter(meetingroom__location__icontains=location)
    return bookings.select_related("meetingroom", "user", "series").order_by(
        "reserve_from", "meetingroom__name", "id"
    )


def series_list_for_user(*, user: User) -> QuerySet[ReservationSeries]:
    return ReservationSeries.objects.filter(user=user).select_related("meetingroom").order_by("-created_at")


def series_get_for_user(*, user: User, series_id: int) -> ReservationSeries:
    series = series_list_for_user(user=user).filter(pk=series_id).first()
    if series is None:
        raise NotFoundError()
    return series


def series_upcoming_occurrences(*, series: ReservationSeries) -> QuerySet[Reservation]:
    return series.occurrences.filter(reserve_to__gt=timezone.now()).order_by("reserve_from")


def reservation_list_for_user_in_span(*, user: User, start: datetime, end: datetime) -> QuerySet[Reservation]:
    """The user's bookings meeting ``[start, end)``, earliest first (the daily digest)."""
    return (
        Reservation.objects.filter(reservation_overlapping(start=start, end=end), user=user)
        .select_related("meetingroom")
        .order_by("reserve_from", "id")
    )


# --- The admin's 今日概览 -------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingOverview:
    bookings: int  # bookings starting in the span
    conflicts: int  # of those, the ones overlapping another booking of the same room


def reservation_clashes() -> Exists:
    """True for a booking that overlaps another booking of its room (staff may book over a clash;
    the service refuses it to everyone else): a filter or a conditional count."""
    return Exists(
        Reservation.objects.filter(
            meetingroom_id=OuterRef("meetingroom_id"),
            reserve_from__lt=OuterRef("reserve_to"),
            reserve_to__gt=OuterRef("reserve_from"),
            reserve_from__gt=OuterRef("reserve_from") - hard_max_duration(),
        ).exclude(pk=OuterRef("pk"))
    )


def reservation_overview(*, start: datetime, end: datetime) -> BookingOverview:
    """Bookings starting within ``[start, end)`` and how many of them clash with another booking of
    their room, in one query."""
    row = Reservation.objects.filter(reserve_from__gte=start, reserve_from__lt=end).aggregate(
        bookings=Count("id"), conflicts=Count("id", filter=reservation_clashes())
    )
    return BookingOverview(bookings=row["bookings"], conflicts=row["conflicts"])
