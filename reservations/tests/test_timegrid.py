"""The slot search's arithmetic, including a property-based test against a brute-force oracle."""

from datetime import date, time

from hypothesis import given, settings
from hypothesis import strategies as st

from reservations import timegrid
from reservations.tests.factories import local

GRID = 30 * 60
DAY = date(2026, 12, 1)
BASE = timegrid.to_ts(local(DAY, "00:00"))  # a local (Asia/Shanghai, +08:00) midnight
OFFSET = 8 * 3600


def minutes(m: int) -> int:
    return BASE + m * 60


def test_grid_rounding_is_on_local_midnight():
    ts = timegrid.to_ts(local(DAY, "10:10"))
    assert timegrid.grid_floor(ts, GRID, OFFSET) == timegrid.to_ts(local(DAY, "10:00"))
    assert timegrid.grid_ceil(ts, GRID, OFFSET) == timegrid.to_ts(local(DAY, "10:30"))
    assert timegrid.grid_ceil(ts - 600, GRID, OFFSET) == ts - 600


def test_the_originals_lost_gap_is_offered():
    """Original §5a worked example: 09:00–12:00, length 40 min, booked 10:00–10:30.

    The greedy scan lost 09:40–10:00; here (on the 30-minute grid, length 60) the run before the
    booking is offered whole, and the run after it from its start on every step.
    """
    runs = timegrid.free_runs(
        [(minutes(540), minutes(720))], [(minutes(600), minutes(630))], grid=GRID, offset=OFFSET
    )
    assert runs == [(minutes(540), minutes(600)), (minutes(630), minutes(720))]
    offered = list(timegrid.slots(runs, length=3600, step=GRID))
    assert offered == [
        (minutes(540), minutes(600)),
        (minutes(630), minutes(690)),
        (minutes(660), minutes(720)),
    ]


def test_back_to_back_bookings_leave_no_gap_and_touching_is_free():
    runs = timegrid.free_runs(
        [(minutes(480), minutes(720))],
        [(minutes(540), minutes(600)), (minutes(600), minutes(660))],
        grid=GRID,
        offset=OFFSET,
    )
    assert runs == [(minutes(480), minutes(540)), (minutes(660), minutes(720))]


def test_off_grid_booking_blocks_its_whole_cells():
    runs = timegrid.free_runs(
        [(minutes(480), minutes(720))], [(minutes(545), minutes(550))], grid=GRID, offset=OFFSET
    )
    assert runs == [(minutes(480), minutes(540)), (minutes(570), minutes(720))]


def test_bookable_hours_cut_the_window_per_day():
    day, next_day = DAY, date(2026, 12, 2)
    start, end = timegrid.to_ts(local(day, "06:00")), timegrid.to_ts(local(next_day, "12:00"))
    opened = timegrid.open_intervals(start, end, hours=(time(8), time(22)))
    assert opened == [
        (timegrid.to_ts(local(day, "08:00")), timegrid.to_ts(local(day, "22:00"))),
        (timegrid.to_ts(local(next_day, "08:00")), end),
    ]


bookings = st.lists(
    st.tuples(st.integers(-120, 1500).map(lambda m: m - m % 5), st.integers(1, 48).map(lambda k: 5 * k)),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(
    busy=bookings,
    window=st.tuples(st.integers(0, 1440), st.integers(0, 1440)).map(
        lambda w: (min(w) - min(w) % 5, max(w) - max(w) % 5)
    ),
    length_cells=st.integers(1, 6),
    step_cells=st.integers(1, 3),
    hours=st.none() | st.tuples(st.integers(0, 23), st.integers(1, 24)).filter(lambda h: h[0] < h[1]),
)
def test_slot_search_matches_a_brute_force_oracle(busy, window, length_cells, step_cells, hours):
    """Every slot is free, inside the window (and the room's hours), on the grid and of the right
    length; every free run of at least ``length`` yields a slot at its start; slots follow the
    step through each run."""
    w0, w1 = window
    h0, h1 = (hours[0] * 60, hours[1] * 60) if hours else (0, 1440)
    intervals = [(minutes(s), minutes(s + d)) for s, d in busy]
    opened = [(minutes(max(w0, h0)), minutes(min(w1, h1)))] if max(w0, h0) < min(w1, h1) else []
    runs = timegrid.free_runs(opened, intervals, grid=GRID, offset=OFFSET)
    offered = list(timegrid.slots(runs, length=length_cells * GRID, step=step_cells * GRID))
    # The API renders slots by grid index from the window's first point: the same slots.
    origin, length = minutes(-150), length_cells * GRID
    by_index = [
        (origin + i * GRID, origin + i * GRID + length)
        for run in runs
        for i in range(200)[
            timegrid.slot_indexes(run, origin=origin, grid=GRID, length=length, step=step_cells * GRID)
        ]
    ]
    assert by_index == offered

    # Oracle: 30-minute cells wholly inside the window and the hours that meet no booking.
    def cell_free(c: int) -> bool:
        c0, c1 = minutes(c * 30), minutes(c * 30 + 30)
        inside = minutes(max(w0, h0)) <= c0 and c1 <= minutes(min(w1, h1))
        return inside and all(not (b0 < c1 and c0 < b1) for b0, b1 in intervals)

    cells = [c for c in range(-1, 50) if cell_free(c)]
    oracle_runs, run = [], []
    for c in cells:
        if run and c != run[-1] + 1:
            oracle_runs.append(run)
            run = []
        run.append(c)
    if run:
        oracle_runs.append(run)
    assert runs == [(minutes(r[0] * 30), minutes(r[-1] * 30 + 30)) for r in oracle_runs]

    free = set(cells)
    for s0, s1 in offered:
        assert s1 - s0 == length_cells * GRID
        assert (s0 - BASE) % GRID == 0
        first = (s0 - BASE) // GRID
        assert all(first + k in free for k in range(length_cells))
    starts = {s0 for s0, _ in offered}
    for r in oracle_runs:
        if len(r) >= length_cells:
            run_start = minutes(r[0] * 30)
            assert run_start in starts
            expected = [
                run_start + k * step_cells * GRID for k in range((len(r) - length_cells) // step_cells + 1)
            ]
            assert [s for s in sorted(starts) if minutes(r[0] * 30) <= s <= minutes(r[-1] * 30)] == expected
