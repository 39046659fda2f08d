"""Reads for meeting rooms and bookings, each in a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from wechathhu.core.errors import NotFound

from . import timegrid
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


# --- The client's availability view (HEAD form) ----------------------------------------------------


@dataclass
class RoomBookings:
    meetingroom: Meetingroom
    reservations: list[Reservation] = field(default_factory=list)


def meetingroom_bookings(*, start: datetime, end: datetime, people_count: int = 0) -> list[RoomBookings]:
    """Every active room seating ``people_count``, with the bookings that meet the window.

    Bookings crossing the window's edges are included. Two queries, whatever the numbers.
    """
    rooms = list(meetingroom_list(people_count=people_count))
    by_room = {room.pk: RoomBookings(room) for room in rooms}
    if by_room:
        bookings = (
            Reservation.objects.filter(reservation_overlapping(start=start, end=end))
            .filter(meetingroom_id__in=list(by_room))
            .select_related("user")
            .order_by("meetingroom_id", "reserve_from", "id")
        )
        for booking in bookings:
            by_room[booking.meetingroom_id].reservations.append(booking)
    return list(by_room.values())


# --- Seed 002's search: rooms free for a window, or free slots of a length -------------------------


@dataclass
class RoomChoices:
    meetingroom: Meetingroom
    choices: list[tuple[int, int]]


def meetingroom_search(
    *,
    start: datetime,
    end: datetime,
    length: timedelta | None = None,
    people_count: int = 0,
    label: str = "",
    location: str = "",
    now: datetime | None = None,
) -> list[tuple[str, list[RoomChoices]]]:
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
    if start > last_start:
        return []
    if length is not None:
        end = min(end, last_start + length)
    ws = timegrid.grid_ceil(timegrid.to_ts(start), grid, offset)
    we = timegrid.grid_floor(timegrid.to_ts(end), grid, offset)
    whole_window = length is None
    rooms = list(meetingroom_list(people_count=people_count, label=label, location=location))
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if rooms:
        rows = (
            Reservation.objects.filter(reservation_overlapping(start=start, end=end))
            .filter(meetingroom_id__in=[room.pk for room in rooms])
            .order_by()
            .values_list("meetingroom_id", "reserve_from", "reserve_to")
        )
        for room_id, b0, b1 in rows:
            busy[room_id].append((timegrid.to_ts(b0), timegrid.to_ts(b1)))
    tz = timezone.get_current_timezone()
    groups: dict[str, list[RoomChoices]] = {}
    for room in rooms:
        hours = (room.bookable_from, room.bookable_to) if room.has_bookable_hours else None
        opened = timegrid.open_intervals(ws, we, hours=hours, tz=tz)
        runs = timegrid.free_runs(opened, busy.get(room.pk, ()), grid=grid, offset=offset)
        if whole_window:
            choices = [(ws, we)] if runs == [(ws, we)] else []
        else:
            choices = timegrid.slots(runs, length=int(length.total_seconds()), step=step)
        if choices:
            groups.setdefault(room.location, []).append(RoomChoices(room, choices))
    # Rooms arrive ordered by seats then name, so each group's first room is its smallest.
    return sorted(groups.items(), key=lambda item: (item[1][0].meetingroom.seats_count, item[0]))


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
        raise NotFound()
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
        raise NotFound()
    return series


def series_upcoming_occurrences(*, series: ReservationSeries) -> QuerySet[Reservation]:
    return series.occurrences.filter(reserve_to__gt=timezone.now()).order_by("reserve_from")
