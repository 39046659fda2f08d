"""Recurring bookings: occurrence-by-occurrence checks, skip or abort, cancelling one or the rest."""

from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from reservations.models import Reservation, ReservationSeries
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db

URL = "/reservations/series/"
# Monday 2026-11-30, 09:00.
NOW = timezone.make_aware(datetime(2026, 11, 30, 9, 0))


@pytest.fixture
def booker():
    with time_machine.travel(NOW, tick=False):
        yield UserFactory()


@pytest.fixture
def client(booker, make_client):
    return make_client(booker)


@pytest.fixture
def room(booker):
    return MeetingroomFactory()


def weekly(room, **overrides):
    return {
        "meetingroom_object": room.pk,
        "description": "课题组周会",
        "frequency": "weekly",
        "weekdays": [2, 4],
        "start_date": "2026-12-01",
        "count": 4,
        "start_time": "14:00",
        "end_time": "15:30",
        **overrides,
    }


def test_weekly_series_books_every_occurrence(client, room, booker):
    response = client.post(URL, weekly(room), format="json")
    assert response.status_code == 201
    body = response.json()
    assert [o["date"] for o in body["occurrences"]] == [
        "2026-12-01",
        "2026-12-03",
        "2026-12-08",
        "2026-12-10",
    ]
    assert body["conflicts"] == []
    assert body["series"]["weekdays"] == [2, 4]
    assert body["occurrences"][0]["reserve_from"] == "2026-12-01T14:00:00+08:00"
    booked = Reservation.objects.filter(series_id=body["series"]["id"], user=booker).order_by("reserve_from")
    assert [r.pk for r in booked] == [o["reservation"] for o in body["occurrences"]]


def test_daily_until_a_date(client, room):
    body = client.post(
        URL, weekly(room, frequency="daily", weekdays=[], count=None, until="2026-12-03"), format="json"
    ).json()
    assert [o["date"] for o in body["occurrences"]] == ["2026-12-01", "2026-12-02", "2026-12-03"]


def test_conflicts_abort_the_whole_series_by_default(client, room):
    ReservationFactory(
        meetingroom=room,
        reserve_from=local(date(2026, 12, 8), "15:00"),
        reserve_to=local(date(2026, 12, 8), "16:00"),
    )
    response = client.post(URL, weekly(room), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["以下日期会议室在该时间段已经被占用：2026-12-08。"],
        "conflicts": ["2026-12-08"],
        "error_code": "series_conflicts",
    }
    assert not ReservationSeries.objects.exists()
    assert Reservation.objects.count() == 1


def test_skip_books_the_rest_and_lists_the_conflicts(client, room):
    ReservationFactory(
        meetingroom=room,
        reserve_from=local(date(2026, 12, 8), "15:00"),
        reserve_to=local(date(2026, 12, 8), "16:00"),
    )
    response = client.post(URL, weekly(room, on_conflict="skip"), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["conflicts"] == ["2026-12-08"]
    assert [(o["date"], o["conflict"], o["reservation"] is not None) for o in body["occurrences"]] == [
        ("2026-12-01", False, True),
        ("2026-12-03", False, True),
        ("2026-12-08", True, False),
        ("2026-12-10", False, True),
    ]


def test_dry_run_books_nothing(client, room):
    response = client.post(URL, weekly(room, dry_run=True), format="json")
    assert response.status_code == 200
    assert response.json()["series"] is None
    assert not Reservation.objects.exists()


def test_an_occurrence_breaking_a_rule_names_its_date(client, room, settings):
    settings.RESERVATION_MAX_ADVANCE_DAYS = 5
    response = client.post(URL, weekly(room), format="json")
    assert response.json() == {
        "non_field_errors": ["2026-12-08：最多只能提前5天预约。"],
        "error_code": "too_far_ahead",
    }


@pytest.mark.parametrize(
    ("overrides", "body"),
    [
        ({"weekdays": []}, {"weekdays": ["每周重复时必须选择星期几。"], "error_code": "invalid_rule"}),
        (
            {"count": None},
            {
                "non_field_errors": ["必须给出截止日期（until）或重复次数（count）。"],
                "error_code": "invalid_rule",
            },
        ),
        (
            {"count": None, "until": "2026-11-01"},
            {"until": ["截止日期不能早于首次日期。"], "error_code": "invalid_rule"},
        ),
        ({"count": 500}, {"non_field_errors": ["重复预约最多100次。"], "error_code": "invalid_rule"}),
        ({"weekdays": [8]}, {"weekdays": {"0": ["请确保该值小于或者等于 7。"]}, "error_code": "max_value"}),
        (
            {"frequency": "monthly"},
            {"frequency": ["“monthly” 不是合法选项。"], "error_code": "invalid_choice"},
        ),
    ],
)
def test_bad_rules_are_400(client, room, overrides, body):
    response = client.post(URL, weekly(room, **overrides), format="json")
    assert response.status_code == 400
    assert response.json() == body


def test_cancel_one_occurrence_or_the_rest(client, room):
    body = client.post(URL, weekly(room), format="json").json()
    series_id = body["series"]["id"]
    first, second, third, fourth = (o["reservation"] for o in body["occurrences"])
    assert client.delete(f"/reservations/{second}/").status_code == 204
    response = client.delete(f"{URL}{series_id}/?from_date=2026-12-08")
    assert response.json() == {"cancelled": 2}
    assert list(Reservation.objects.values_list("pk", flat=True)) == [first]
    detail = client.get(f"{URL}{series_id}/").json()
    assert [o["id"] for o in detail["occurrences"]] == [first]
    assert client.delete(f"{URL}{series_id}/").json() == {"cancelled": 1}


def test_someone_elses_series_is_404(client, room, make_client):
    other = make_client(UserFactory())
    series_id = other.post(URL, weekly(room), format="json").json()["series"]["id"]
    assert client.get(f"{URL}{series_id}/").status_code == 404
    assert client.delete(f"{URL}{series_id}/").status_code == 404
    assert client.get(URL).json()["count"] == 0
    assert other.get(URL).json()["count"] == 1


def test_series_list_is_constant_in_queries(client, room):
    client.post(URL, weekly(room), format="json")
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).json()["count"] == 1
    for k in range(4):
        client.post(
            URL, weekly(MeetingroomFactory(), start_time=f"{8 + k}:00", end_time=f"{9 + k}:00"), format="json"
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).json()["count"] == 5
    assert len(many) == len(one)
