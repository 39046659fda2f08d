"""The admin calendar's grids (day / week / month), built from bookings already loaded.

Pure layout: no queries. A *time grid* has one column per room (day view) or per day (week view)
and one row per booking-grid cell; a booking becomes one cell spanning its rows, every other
cell is free and selectable. The month view lists each day's bookings.
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Meetingroom, Reservation

VIEWS = ("day", "week", "month")
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass
class Column:
    title: str
    room: Meetingroom
    day: date
    key: int


@dataclass
class Cell:
    column: Column
    start: datetime
    end: datetime
    booking: Reservation | None = None
    rowspan: int = 1

    @property
    def free(self) -> bool:
        return self.booking is None


@dataclass
class Row:
    label: str
    cells: list[Cell] = field(default_factory=list)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0)) + timedelta(hours=hour))


def time_grid(columns: list[Column], bookings: list[Reservation]) -> list[Row]:
    """Rows of cells for ``columns`` between the configured calendar hours.

    A booking is placed in its room's column for its day, spanning every cell it meets (clipped
    to the grid); cells under it are left out of their rows, as a ``rowspan`` needs.
    """
    step = timedelta(minutes=settings.RESERVATION_GRID_MINUTES)
    first_hour, last_hour = settings.RESERVATION_CALENDAR_START_HOUR, settings.RESERVATION_CALENDAR_END_HOUR
    count = int((last_hour - first_hour) * 60 // settings.RESERVATION_GRID_MINUTES)
    rows = []
    grid_start = {column.key: _at(column.day, first_hour) for column in columns}
    for i in range(count):
        label = (
            timezone.localtime(_at(columns[0].day, first_hour) + i * step).strftime("%H:%M")
            if columns
            else ""
        )
        rows.append(Row(label))
    for column in columns:
        start = grid_start[column.key]
        mine = sorted(
            (
                b
                for b in bookings
                if b.meetingroom_id == column.room.pk
                and b.reserve_to > start
                and b.reserve_from < start + count * step
            ),
            key=lambda b: b.reserve_from,
        )
        i = 0
        while i < count:
            cell_start = start + i * step
            cell_end = cell_start + step
            booking = next((b for b in mine if b.reserve_from < cell_end and b.reserve_to > cell_start), None)
            if booking is None:
                rows[i].cells.append(Cell(column, cell_start, cell_end))
                i += 1
                continue
            span = 1
            while i + span < count and booking.reserve_to > start + (i + span) * step:
                span += 1
            rows[i].cells.append(Cell(column, cell_start, start + (i + span) * step, booking, span))
            i += span
    return rows


def day_columns(rooms: list[Meetingroom], day: date) -> list[Column]:
    return [Column(room.name, room, day, room.pk) for room in rooms]


def week_days(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=k) for k in range(7)]


def week_columns(room: Meetingroom, day: date) -> list[Column]:
    return [Column(f"{WEEKDAY_NAMES[d.weekday()]} {d:%m-%d}", room, d, d.toordinal()) for d in week_days(day)]


@dataclass
class MonthDay:
    day: date
    in_month: bool
    bookings: list[Reservation] = field(default_factory=list)


def month_weeks(day: date, bookings: list[Reservation]) -> list[list[MonthDay]]:
    """The weeks (Monday first) covering ``day``'s month, each day with the bookings it meets."""
    weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(day.year, day.month)
    by_day: dict[date, list[Reservation]] = {}
    for booking in bookings:
        current = timezone.localtime(booking.reserve_from).date()
        last = timezone.localtime(booking.reserve_to - timedelta(microseconds=1)).date()
        while current <= last:
            by_day.setdefault(current, []).append(booking)
            current += timedelta(days=1)
    return [[MonthDay(d, d.month == day.month, by_day.get(d, [])) for d in week] for week in weeks]


def span_of(view: str, day: date) -> tuple[datetime, datetime]:
    """The local span a view shows around ``day``."""
    if view == "day":
        first = last = day
    elif view == "week":
        days = week_days(day)
        first, last = days[0], days[-1]
    else:
        weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(day.year, day.month)
        first, last = weeks[0][0], weeks[-1][-1]
    return _at(first, 0), _at(last + timedelta(days=1), 0)


def step_day(view: str, day: date, direction: int) -> date:
    """The ``day`` of the previous (-1) or next (+1) page of a view."""
    if view == "day":
        return day + timedelta(days=direction)
    if view == "week":
        return day + timedelta(days=7 * direction)
    month = day.month - 1 + direction
    return date(day.year + month // 12, month % 12 + 1, 1)
