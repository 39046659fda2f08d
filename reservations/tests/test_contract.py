"""The mini-program's calls C16–C19 (original §2.3), replayed exactly as the client sends them.

The clock is set to 2020-02-26 (the client's own example dates), so the request bodies below are
the literal examples of the contract.
"""

from datetime import date, datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import UserFactory
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db

DAY = date(2020, 2, 27)


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.make_aware(datetime(2020, 2, 26, 9, 0)), tick=False):
        yield


@pytest.fixture
def booker(frozen):
    return UserFactory(username="1001", last_name="张", first_name="三", phone="13800000000")


@pytest.fixture
def client(frozen, booker, make_client):
    return make_client(booker)


def test_c16_availability_for_the_chosen_local_day(client, booker):
    small = MeetingroomFactory(name="A101", seats_count=6)
    large = MeetingroomFactory(name="B201", seats_count=20)
    medium = MeetingroomFactory(name="A102", seats_count=10)
    ReservationFactory(
        user=booker,
        meetingroom=medium,
        reserve_from=local(DAY, "10:00"),
        reserve_to=local(DAY, "11:30"),
        description="组会",
    )
    ReservationFactory(meetingroom=small, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00"))

    response = client.get(
        "/meetingrooms/available/",
        {"query_from": "2020-02-26T16:00:00Z", "query_to": "2020-02-27T15:59:59Z", "people_count": "8"},
    )

    assert response.status_code == 200
    assert response.json() == [
        {
            "reservations": [
                {
                    "time_range": ["2020-02-27T02:00:00Z", "2020-02-27T03:30:00Z"],
                    "reserve_user": "1001-张三",
                    "contact": "13800000000",
                    "description": "组会",
                }
            ],
            "meetingroom": {"id": medium.pk, "name": "A102", "seats_count": 10},
        },
        {"reservations": [], "meetingroom": {"id": large.pk, "name": "B201", "seats_count": 20}},
    ]


def test_c16_without_people_count_lists_every_room_by_seats(client):
    rooms = [MeetingroomFactory(seats_count=n) for n in (30, 4, 12)]
    response = client.get(
        "/meetingrooms/available/", {"query_from": "2020-02-26T16:00:00Z", "query_to": "2020-02-27T15:59:59Z"}
    )
    assert [room["meetingroom"]["id"] for room in response.json()] == [rooms[1].pk, rooms[2].pk, rooms[0].pk]


def test_c16_includes_bookings_crossing_the_window_edges(client):
    room = MeetingroomFactory()
    ReservationFactory(
        meetingroom=room, reserve_from=local(date(2020, 2, 26), "23:00"), reserve_to=local(DAY, "01:00")
    )
    ReservationFactory(
        meetingroom=room, reserve_from=local(date(2020, 2, 26), "21:00"), reserve_to=local(DAY, "00:00")
    )
    ReservationFactory(
        meetingroom=room,
        reserve_from=local(date(2020, 2, 28), "00:00"),
        reserve_to=local(date(2020, 2, 28), "01:00"),
    )
    response = client.get(
        "/meetingrooms/available/", {"query_from": "2020-02-26T16:00:00Z", "query_to": "2020-02-27T15:59:59Z"}
    )
    [entry] = response.json()
    assert [r["time_range"] for r in entry["reservations"]] == [
        ["2020-02-26T15:00:00Z", "2020-02-26T17:00:00Z"]
    ]


def test_c17_books_and_answers_local_times(client, booker):
    room = MeetingroomFactory(name="A102", seats_count=10, location="勤学楼 4 楼")
    response = client.post(
        "/reservations/",
        {
            "reserve_from": "2020-02-27T02:00:00Z",
            "reserve_to": "2020-02-27T03:30:00Z",
            "description": "组会",
            "meetingroom_object": room.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["reserve_from"] == "2020-02-27T10:00:00+08:00"
    assert body["reserve_to"] == "2020-02-27T11:30:00+08:00"
    assert body["description"] == "组会" and body["user"] == booker.pk
    assert body["meetingroom"] == {
        "id": room.pk,
        "name": "A102",
        "location": "勤学楼 4 楼",
        "seats_count": 10,
        "label": "研讨室",
    }
    assert Reservation.objects.filter(pk=body["id"], meetingroom=room, user=booker).exists()


def test_c17_conflict_is_the_non_field_error_the_client_toasts(client):
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "11:00"), reserve_to=local(DAY, "12:00"))
    response = client.post(
        "/reservations/",
        {
            "reserve_from": "2020-02-27T02:00:00Z",
            "reserve_to": "2020-02-27T03:30:00Z",
            "description": "组会",
            "meetingroom_object": room.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["会议室在该时间段已经被占用。"], "error_code": "occupied"}


def test_c17_back_to_back_is_not_a_conflict(client):
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "09:00"), reserve_to=local(DAY, "10:00"))
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "11:30"), reserve_to=local(DAY, "12:00"))
    response = client.post(
        "/reservations/",
        {
            "reserve_from": "2020-02-27T02:00:00Z",
            "reserve_to": "2020-02-27T03:30:00Z",
            "description": "组会",
            "meetingroom_object": room.pk,
        },
        format="json",
    )
    assert response.status_code == 201


def test_c18_lists_own_upcoming_bookings_with_the_fields_the_client_reads(client, booker):
    room = MeetingroomFactory(name="A102", location="勤学楼 4 楼", seats_count=10)
    mine = ReservationFactory(
        user=booker, meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:30")
    )
    ReservationFactory(
        user=booker,
        meetingroom=room,
        reserve_from=local(date(2020, 2, 25), "10:00"),
        reserve_to=local(date(2020, 2, 25), "11:00"),
    )  # ended
    ReservationFactory(
        meetingroom=room, reserve_from=local(DAY, "14:00"), reserve_to=local(DAY, "15:00")
    )  # not mine

    response = client.get("/reservations/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    [item] = body["results"]
    assert item["id"] == mine.pk
    assert item["reserve_from"] == "2020-02-27T10:00:00+08:00"
    assert item["reserve_to"] == "2020-02-27T11:30:00+08:00"
    assert item["description"] == "组会"
    assert item["meetingroom"]["name"] == "A102"
    assert item["meetingroom"]["location"] == "勤学楼 4 楼"
    assert item["meetingroom"]["seats_count"] == 10


def test_c19_cancels_own_booking(client, booker):
    mine = ReservationFactory(user=booker, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00"))
    response = client.delete(f"/reservations/{mine.pk}/")
    assert response.status_code == 204
    assert not Reservation.objects.filter(pk=mine.pk).exists()


def test_c19_someone_elses_or_ended_booking_is_404(client, booker):
    other = ReservationFactory(reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00"))
    ended = ReservationFactory(
        user=booker,
        reserve_from=local(date(2020, 2, 26), "07:00"),
        reserve_to=local(date(2020, 2, 26), "08:00"),
    )
    for pk in (other.pk, ended.pk, 999999):
        response = client.delete(f"/reservations/{pk}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "未找到。", "error_code": "not_found"}
    assert Reservation.objects.filter(pk__in=[other.pk, ended.pk]).count() == 2
