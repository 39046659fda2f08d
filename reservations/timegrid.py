"""Pure time arithmetic for bookings: the booking grid, free runs and the slots offered in them.

Everything here works on integer POSIX seconds, so the slot search over hundreds of rooms stays
cheap; nothing touches the database.

Semantics of the slot search (``free_runs`` + ``slots``):

* the window is narrowed inward to the booking grid and each busy interval widened outward to it,
  so every run and every slot starts and ends on the grid and can actually be booked;
* a *free run* is a maximal interval inside the window (and inside the room's bookable hours,
  when set) that meets no booking (intervals are half-open: back-to-back is free);
* every run at least ``length`` long yields its earliest slot, and further slots every ``step``
  seconds through it (unlike the original's greedy scan, no run is ever lost).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.utils import timezone

Interval = tuple[int, int]


def to_ts(dt: datetime) -> int:
    return int(dt.timestamp())


def utc_offset_seconds(dt: datetime) -> int:
    """The local (``TIME_ZONE``) UTC offset at ``dt``: the grid is aligned on local midnight."""
    offset = timezone.localtime(dt).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def grid_floor(ts: int, grid: int, offset: int) -> int:
    return ts - (ts + offset) % grid


def grid_ceil(ts: int, grid: int, offset: int) -> int:
    rest = (ts + offset) % grid
    return ts if rest == 0 else ts + grid - rest


def on_grid(dt: datetime, grid_minutes: int) -> bool:
    """Whether ``dt`` (any zone) falls on the local booking grid, to the microsecond."""
    local = timezone.localtime(dt)
    if local.second or local.microsecond:
        return False
    return (local.hour * 60 + local.minute) % grid_minutes == 0


def open_intervals(start: int, end: int, *, hours: tuple[time, time] | None, tz=None) -> list[Interval]:
    """``[start, end)`` cut to the daily bookable hours (local time) when a room has them."""
    if start >= end:
        return []
    if hours is None:
        return [(start, end)]
    tz = tz or timezone.get_current_timezone()
    opens, closes = hours
    day: date = datetime.fromtimestamp(start, tz).date()
    last: date = datetime.fromtimestamp(end, tz).date()
    result = []
    while day <= last:
        lo = to_ts(datetime.combine(day, opens, tz))
        hi = to_ts(datetime.combine(day, closes, tz))
        lo, hi = max(lo, start), min(hi, end)
        if lo < hi:
            result.append((lo, hi))
        day += timedelta(days=1)
    return result


def free_runs(
    opened: Iterable[Interval], busy: Iterable[Interval], *, grid: int, offset: int
) -> list[Interval]:
    """The maximal free runs of ``opened`` minus ``busy``, all on the grid.

    ``opened`` must be sorted and disjoint; ``busy`` may be in any order and may overlap.
    """
    # grid_floor / grid_ceil inlined: this runs for every booking of every room searched.
    widened = sorted((b0 - (b0 + offset) % grid, b1 + -(b1 + offset) % grid) for b0, b1 in busy)
    runs: list[Interval] = []
    for o0, o1 in opened:
        cursor = grid_ceil(o0, grid, offset)
        stop = grid_floor(o1, grid, offset)
        for b0, b1 in widened:
            if b1 <= cursor:
                continue
            if b0 >= stop:
                break
            if b0 > cursor:
                runs.append((cursor, b0))
            cursor = max(cursor, b1)
        if cursor < stop:
            runs.append((cursor, stop))
    return runs


def slots(runs: Iterable[Interval], *, length: int, step: int) -> list[Interval]:
    """The slots of ``length`` seconds offered in ``runs``: each run's earliest, then every ``step``."""
    return [(start, start + length) for r0, r1 in runs for start in range(r0, r1 - length + 1, step)]


def slot_indexes(run: Interval, *, origin: int, grid: int, length: int, step: int) -> slice:
    """The slots ``slots([run], ...)`` offers, as a slice of the grid points counted from ``origin``.

    ``run`` must start on the grid through ``origin`` and ``step`` be a multiple of ``grid``; then
    the slot starting at grid point ``i`` is ``(origin + i * grid, origin + i * grid + length)``.
    """
    first = (run[0] - origin) // grid
    last = (run[1] - length - origin) // grid
    return slice(first, max(first, last + 1), step // grid)
