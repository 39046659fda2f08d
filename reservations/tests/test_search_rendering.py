"""The search answer's JSON, built from fragments, is exactly the plain expansion of its slots."""

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from reservations.api.serializers import search_json
from reservations.models import Meetingroom
from reservations.selectors import RoomChoices, RoomSearch

GRID = 30 * 60
ORIGIN = int(datetime(2026, 12, 1, 0, 0, tzinfo=UTC).timestamp())
SHANGHAI = timezone(timedelta(hours=8))


def expected(result: RoomSearch, tz) -> list[dict]:
    def iso(ts: int) -> str:
        return datetime.fromtimestamp(ts, tz).isoformat()

    return [
        {
            "location": location,
            "meetingrooms": [
                {
                    "id": room.meetingroom.id,
                    "info": {
                        "name": room.meetingroom.name,
                        "location": room.meetingroom.location,
                        "seats_count": room.meetingroom.seats_count,
                        "label": room.meetingroom.label,
                        "description": room.meetingroom.description,
                    },
                    "choices": [[iso(a), iso(b)] for a, b in result.choices(room)],
                }
                for room in rooms
            ],
        }
        for location, rooms in result.groups
    ]


def runs_of(cells: list[int], length_cells: int) -> list[tuple[int, int]]:
    """Disjoint runs on the grid (at least ``length_cells`` long) from cut points."""
    points = sorted(set(cells))
    runs = []
    for a, b in zip(points[::2], points[1::2], strict=False):
        if b - a >= length_cells:
            runs.append((ORIGIN + a * GRID, ORIGIN + b * GRID))
    return runs


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    rooms=st.lists(
        st.tuples(text, text, st.lists(st.integers(0, 48 * 7), max_size=10)), min_size=0, max_size=6
    ),
    length_cells=st.integers(1, 6),
    step_cells=st.integers(1, 3),
    tz=st.sampled_from([UTC, SHANGHAI]),
)
def test_rendered_answer_equals_the_expanded_slots(rooms, length_cells, step_cells, tz):
    result = RoomSearch(origin=ORIGIN, grid=GRID, length=length_cells * GRID, step=step_cells * GRID)
    groups: dict[str, list[RoomChoices]] = {}
    for index, (name, description, cuts) in enumerate(rooms):
        runs = runs_of(cuts, length_cells)
        if runs:
            room = Meetingroom(
                pk=index + 1,
                name=name,
                location=name[:2],
                label="研讨室",
                seats_count=index + 1,
                description=description,
            )
            groups.setdefault(room.location, []).append(RoomChoices(room, runs))
    result.groups = list(groups.items())

    content = search_json(result, tz=tz)

    assert json.loads(content) == expected(result, tz)


def test_an_empty_answer_is_an_empty_array():
    assert search_json(RoomSearch(origin=ORIGIN, grid=GRID, length=GRID, step=GRID), tz=UTC) == b"[]"


def test_line_separators_are_escaped_as_drf_does():
    room = Meetingroom(pk=1, name='A"1\\', location="楼", seats_count=4, description="一\u2028二\u2029")
    result = RoomSearch(origin=ORIGIN, grid=GRID, length=GRID, step=GRID)
    result.groups = [("楼", [RoomChoices(room, [(ORIGIN, ORIGIN + GRID)])])]
    content = search_json(result, tz=UTC).decode()
    assert "\u2028" not in content and "\\u2028" in content and "\\u2029" in content
    assert json.loads(content)[0]["meetingrooms"][0]["info"]["description"] == "一\u2028二\u2029"
