"""Booking rules, the reservation list's query count, and the service used by API and admin alike."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from reservations import services
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local
from wechathhu.core.errors import ApplicationError

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 11, 30, 9, 10))
DAY = date(2026, 12, 1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booker(frozen):
    return UserFactory()


@pytest.fixture
def client(booker, make_client):
    return make_client(booker)


def book(client, room, start, end, description="组会"):
    return client.post(
        "/reservations/",
        {
            "meetingroom_object": room.pk,
            "reserve_from": start.isoformat(),
            "reserve_to": end.isoformat(),
            "description": description,
        },
        format="json",
    )


RULE_CODES = {  # the rest are "invalid_span"
    "结束时间必须在现在以后。": "in_the_past",
    "开始时间不能早于现在。": "in_the_past",
    "最多只能提前60天预约。": "too_far_ahead",
}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            local(DAY, "10:15"),
            local(DAY, "11:15"),
            "预约的开始和结束时间必须以30分钟为单位（如整点或半点）。",
        ),
        (local(DAY, "10:00"), local(DAY, "10:00"), "开始时间必须早于结束时间。"),
        (local(DAY, "11:00"), local(DAY, "10:00"), "开始时间必须早于结束时间。"),
        (local(DAY, "10:00"), local(DAY, "13:30"), "预约会议时间不得少于30分钟，不得超过3小时。"),
        (local(date(2026, 11, 30), "07:00"), local(date(2026, 11, 30), "08:00"), "结束时间必须在现在以后。"),
        (local(date(2026, 11, 30), "08:30"), local(date(2026, 11, 30), "10:00"), "开始时间不能早于现在。"),
        (local(date(2027, 2, 1), "10:00"), local(date(2027, 2, 1), "11:00"), "最多只能提前60天预约。"),
    ],
)
def test_rules_are_400_non_field_errors(client, start, end, message):
    room = MeetingroomFactory()
    response = book(client, room, start, end)
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [message],
        "error_code": RULE_CODES.get(message, "invalid_span"),
    }
    assert not Reservation.objects.exists()


def test_the_current_grid_cell_is_still_bookable(client):
    assert (
        book(
            client,
            MeetingroomFactory(),
            local(date(2026, 11, 30), "09:00"),
            local(date(2026, 11, 30), "10:00"),
        ).status_code
        == 201
    )


def test_rules_follow_the_settings(client, settings):
    settings.RESERVATION_GRID_MINUTES = 15
    settings.RESERVATION_MIN_MINUTES = 15
    settings.RESERVATION_MAX_MINUTES = 240
    room = MeetingroomFactory()
    assert book(client, room, local(DAY, "10:15"), local(DAY, "10:30")).status_code == 201
    assert book(client, room, local(DAY, "11:00"), local(DAY, "15:00")).status_code == 201
    response = book(client, room, local(DAY, "16:00"), local(DAY, "20:15"))
    assert response.json() == {
        "non_field_errors": ["预约会议时间不得少于15分钟，不得超过4小时。"],
        "error_code": "invalid_span",
    }


def test_bookable_hours_and_inactive_rooms(client):
    room = MeetingroomFactory(bookable_from=time(8), bookable_to=time(18))
    response = book(client, room, local(DAY, "17:30"), local(DAY, "18:30"))
    assert response.json() == {
        "non_field_errors": ["该会议室的可预约时间为每天 08:00–18:00。"],
        "error_code": "outside_hours",
    }
    assert book(client, room, local(DAY, "17:00"), local(DAY, "18:00")).status_code == 201
    closed = MeetingroomFactory(is_active=False)
    assert book(client, closed, local(DAY, "10:00"), local(DAY, "11:00")).json() == {
        "non_field_errors": ["该会议室暂停预约。"],
        "error_code": "room_closed",
    }


def test_field_errors_name_the_field(client):
    response = client.post(
        "/reservations/", {"meetingroom_object": 999, "reserve_from": "soon"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"meetingroom_object", "reserve_from", "reserve_to", "description", "error_code"}
    assert body["description"] == ["该字段是必填项。"]


def test_overlap_in_any_form_is_refused(client):
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "12:00"))
    for start, end in (("09:00", "10:30"), ("11:30", "13:00"), ("10:30", "11:00"), ("09:00", "12:00")):
        assert book(client, room, local(DAY, start), local(DAY, end)).json() == {
            "non_field_errors": ["会议室在该时间段已经被占用。"],
            "error_code": "occupied",
        }
    assert book(client, MeetingroomFactory(), local(DAY, "10:00"), local(DAY, "12:00")).status_code == 201


def test_staff_override_lifts_duration_rules_but_never_allows_overlap(frozen, booker):
    room = MeetingroomFactory(bookable_from=time(8), bookable_to=time(18))
    long = services.reservation_create(
        user=booker,
        meetingroom=room,
        reserve_from=local(DAY, "07:00"),
        reserve_to=local(DAY, "19:00"),
        description="学术会议",
        override_rules=True,
    )
    assert long.pk
    with pytest.raises(ApplicationError) as exc:
        services.reservation_create(
            user=booker,
            meetingroom=room,
            reserve_from=local(DAY, "18:30"),
            reserve_to=local(DAY, "20:00"),
            description="x",
            override_rules=True,
        )
    assert (exc.value.message, exc.value.code) == ("会议室在该时间段已经被占用。", "occupied")
    with pytest.raises(ApplicationError) as exc:
        services.reservation_create(
            user=booker,
            meetingroom=room,
            reserve_from=local(DAY, "20:00"),
            reserve_to=local(DAY + timedelta(days=2), "20:00"),
            description="x",
            override_rules=True,
        )
    assert (exc.value.message, exc.value.code) == ("单次预约不得超过24小时。", "invalid_span")


def test_update_moves_a_booking_without_conflicting_with_itself(frozen, booker):
    room, other_room = MeetingroomFactory(), MeetingroomFactory()
    reservation = ReservationFactory(
        user=booker, meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00")
    )
    services.reservation_update(
        reservation=reservation,
        meetingroom=room,
        reserve_from=local(DAY, "10:30"),
        reserve_to=local(DAY, "11:30"),
        description="改期",
    )
    ReservationFactory(
        meetingroom=other_room, reserve_from=local(DAY, "11:00"), reserve_to=local(DAY, "12:00")
    )
    with pytest.raises(ApplicationError):
        services.reservation_update(
            reservation=reservation,
            meetingroom=other_room,
            reserve_from=local(DAY, "10:30"),
            reserve_to=local(DAY, "11:30"),
            description="改期",
        )
    reservation.refresh_from_db()
    assert (reservation.meetingroom, reservation.reserve_from) == (room, local(DAY, "10:30"))


def test_database_refuses_start_not_before_end(frozen):
    room = MeetingroomFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(
            user=UserFactory(),
            meetingroom=room,
            reserve_from=local(DAY, "11:00"),
            reserve_to=local(DAY, "10:00"),
            description="x",
        )


def test_retrieve_own_booking(client, booker):
    mine = ReservationFactory(user=booker, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00"))
    response = client.get(f"/reservations/{mine.pk}/")
    assert response.status_code == 200 and response.json()["id"] == mine.pk


def test_list_is_paginated_and_constant_in_queries(client, booker):
    ReservationFactory(user=booker, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00"))
    client.get("/reservations/")
    with CaptureQueriesContext(connection) as one:
        client.get("/reservations/")
    for hour in range(8, 20):
        ReservationFactory(
            user=booker,
            meetingroom=MeetingroomFactory(),
            reserve_from=local(DAY, f"{hour}:00"),
            reserve_to=local(DAY, f"{hour}:30"),
        )
    with CaptureQueriesContext(connection) as many:
        body = client.get("/reservations/").json()
    assert body["count"] == 13 and len(body["results"]) == 13
    assert len(many) == len(one)


def test_list_pages_hold_twenty(client, booker):
    room = MeetingroomFactory()
    for i in range(21):
        start = local(DAY, "08:00") + timedelta(minutes=30 * i)
        ReservationFactory(
            user=booker, meetingroom=room, reserve_from=start, reserve_to=start + timedelta(minutes=30)
        )
    body = client.get("/reservations/").json()
    assert body["count"] == 21 and len(body["results"]) == 20 and body["next"]


# --- Issue 16 item 19: a limit on the bookings one user holds ------------------------------------


def test_a_user_holds_at_most_the_configured_number_of_bookings(client, booker, settings, frozen):
    settings.RESERVATION_MAX_ACTIVE_PER_USER = 3
    room = MeetingroomFactory()
    for hour in ("09:00", "10:00", "11:00"):
        start = local(DAY, hour)
        assert book(client, room, start, start + timedelta(hours=1)).status_code == 201

    response = book(client, room, local(DAY, "14:00"), local(DAY, "15:00"))

    assert response.status_code == 400
    assert response.json()["error_code"] == "quota_exceeded"
    assert "最多同时持有 3 个" in response.json()["non_field_errors"][0]
    assert Reservation.objects.filter(user=booker).count() == 3
    # one cancelled (or ended) frees a place
    client.delete(f"/reservations/{Reservation.objects.filter(user=booker).first().pk}/")
    assert book(client, room, local(DAY, "14:00"), local(DAY, "15:00")).status_code == 201


def test_a_recurring_booking_counts_each_date(client, booker, settings, frozen):
    settings.RESERVATION_MAX_ACTIVE_PER_USER = 5
    room = MeetingroomFactory()
    body = {
        "meetingroom_object": room.pk,
        "description": "周会",
        "frequency": "daily",
        "start_date": DAY.isoformat(),
        "count": 6,
        "start_time": "09:00",
        "end_time": "10:00",
    }
    response = client.post("/reservations/series/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "quota_exceeded"
    assert not Reservation.objects.exists()
    assert client.post("/reservations/series/", {**body, "count": 5}, format="json").status_code == 201


def test_staff_are_exempt_from_the_booking_limit(make_client, settings, frozen):
    settings.RESERVATION_MAX_ACTIVE_PER_USER = 1
    staff = make_client(UserFactory(is_staff=True, kind="staff"))
    room = MeetingroomFactory()
    for hour in ("09:00", "10:00"):
        start = local(DAY, hour)
        assert book(staff, room, start, start + timedelta(hours=1)).status_code == 201
