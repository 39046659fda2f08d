"""``GET /meetingrooms/available/``: seed 002's search form, bad parameters, constant queries."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db

URL = "/meetingrooms/available/"
DAY = date(2026, 12, 1)


@pytest.fixture
def client(make_client):
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 30, 9, 0)), tick=False):
        yield make_client(UserFactory())


def search(client, **params):
    defaults = {"time_from": "2026-12-01T09:00:00+08:00", "time_to": "2026-12-01T12:00:00+08:00"}
    return client.get(URL, {**defaults, **params})


def test_without_length_lists_rooms_free_for_the_whole_window_grouped_by_location(client):
    a_small = MeetingroomFactory(name="A401", location="勤学楼 4 楼", seats_count=8, label="研讨室")
    a_busy = MeetingroomFactory(name="A402", location="勤学楼 4 楼", seats_count=12)
    b_room = MeetingroomFactory(name="B201", location="图书馆 2 楼", seats_count=4, label="研讨室")
    a_large = MeetingroomFactory(name="A403", location="勤学楼 4 楼", seats_count=40, label="报告厅")
    ReservationFactory(meetingroom=a_busy, reserve_from=local(DAY, "11:30"), reserve_to=local(DAY, "12:30"))
    ReservationFactory(meetingroom=a_small, reserve_from=local(DAY, "08:00"), reserve_to=local(DAY, "09:00"))

    response = search(client)

    assert response.status_code == 200
    body = response.json()
    assert [group["location"] for group in body] == ["图书馆 2 楼", "勤学楼 4 楼"]
    assert [room["id"] for room in body[1]["meetingrooms"]] == [a_small.pk, a_large.pk]
    assert body[0]["meetingrooms"][0] == {
        "id": b_room.pk,
        "info": {
            "name": "B201",
            "location": "图书馆 2 楼",
            "seats_count": 4,
            "label": "研讨室",
            "description": "",
        },
        "choices": [["2026-12-01T09:00:00+08:00", "2026-12-01T12:00:00+08:00"]],
    }


def test_filters_by_people_label_and_location(client):
    MeetingroomFactory(name="A401", location="勤学楼 4 楼", seats_count=8, label="研讨室")
    hall = MeetingroomFactory(name="A403", location="勤学楼 4 楼", seats_count=40, label="报告厅")
    MeetingroomFactory(name="B201", location="图书馆 2 楼", seats_count=50, label="报告厅")
    body = search(client, people_count="10", label="报告", location="勤学").json()
    assert [[room["id"] for room in group["meetingrooms"]] for group in body] == [[hall.pk]]


def test_with_length_offers_every_free_run_and_steps_through_it(client):
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "10:30"))
    body = search(client, length="60").json()
    assert body[0]["meetingrooms"][0]["choices"] == [
        ["2026-12-01T09:00:00+08:00", "2026-12-01T10:00:00+08:00"],
        ["2026-12-01T10:30:00+08:00", "2026-12-01T11:30:00+08:00"],
        ["2026-12-01T11:00:00+08:00", "2026-12-01T12:00:00+08:00"],
    ]


def test_choices_follow_the_request_offset(client):
    MeetingroomFactory()
    body = search(
        client, time_from="2026-12-01T01:00:00Z", time_to="2026-12-01T02:00:00Z", length="60"
    ).json()
    assert body[0]["meetingrooms"][0]["choices"] == [
        ["2026-12-01T01:00:00+00:00", "2026-12-01T02:00:00+00:00"]
    ]


def test_unencoded_plus_in_the_offset_is_understood(client):
    MeetingroomFactory()
    response = client.get(URL + "?time_from=2026-12-01T09:00:00+08:00&time_to=2026-12-01T10:00:00+08:00")
    assert response.status_code == 200
    assert response.json()[0]["meetingrooms"][0]["choices"] == [
        ["2026-12-01T09:00:00+08:00", "2026-12-01T10:00:00+08:00"]
    ]


def test_rooms_without_a_slot_are_left_out_and_bookable_hours_are_respected(client):
    full = MeetingroomFactory(name="full")
    ReservationFactory(meetingroom=full, reserve_from=local(DAY, "09:00"), reserve_to=local(DAY, "12:00"))
    MeetingroomFactory(
        name="late",
        bookable_from=datetime(2026, 1, 1, 11).time(),
        bookable_to=datetime(2026, 1, 1, 20).time(),
    )
    body = search(client, length="60").json()
    [group] = body
    [late] = group["meetingrooms"]
    assert late["info"]["name"] == "late"
    assert late["choices"] == [["2026-12-01T11:00:00+08:00", "2026-12-01T12:00:00+08:00"]]


def test_past_time_and_time_beyond_the_advance_window_are_not_offered(client, settings):
    MeetingroomFactory()
    body = search(
        client, time_from="2026-11-30T08:00:00+08:00", time_to="2026-11-30T11:00:00+08:00", length="60"
    ).json()
    assert body[0]["meetingrooms"][0]["choices"][0] == [
        "2026-11-30T09:00:00+08:00",
        "2026-11-30T10:00:00+08:00",
    ]
    settings.RESERVATION_MAX_ADVANCE_DAYS = 1
    body = search(
        client, time_from="2026-12-01T08:00:00+08:00", time_to="2026-12-01T12:00:00+08:00", length="60"
    ).json()
    assert body[0]["meetingrooms"][0]["choices"] == [
        ["2026-12-01T08:00:00+08:00", "2026-12-01T09:00:00+08:00"],
        ["2026-12-01T08:30:00+08:00", "2026-12-01T09:30:00+08:00"],
        ["2026-12-01T09:00:00+08:00", "2026-12-01T10:00:00+08:00"],
    ]


QUERY_CODES = {  # the rest are "invalid_query"
    "查询的开始时间必须早于结束时间。": "invalid_span",
    "查询的时间跨度不得超过31天。": "invalid_span",
    "结束时间必须在现在以后。": "in_the_past",
}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"query_from": "2026-12-01T00:00:00Z"}, "查询的开始和结束时间必须以正确格式给定。"),
        (
            {"query_from": "yesterday", "query_to": "2026-12-01T00:00:00Z"},
            "查询的开始和结束时间必须以正确格式给定。",
        ),
        ({}, "查询的开始和结束时间必须以正确格式给定。"),
        (
            {"query_from": "2026-12-02T00:00:00Z", "query_to": "2026-12-01T00:00:00Z"},
            "查询的开始时间必须早于结束时间。",
        ),
        (
            {"query_from": "2026-12-01T00:00:00Z", "query_to": "2027-01-15T00:00:00Z"},
            "查询的时间跨度不得超过31天。",
        ),
        (
            {
                "query_from": "2026-12-01T00:00:00Z",
                "query_to": "2026-12-02T00:00:00Z",
                "people_count": "many",
            },
            "开会人数（people_count）必须是整数。",
        ),
        (
            {"time_from": "2026-12-01T09:00:00+08:00"},
            "查询的开始和结束时间（time_from、time_to）必须以正确格式给定。",
        ),
        (
            {
                "time_from": "2026-12-01T09:00:00+08:00",
                "time_to": "2026-12-01T12:00:00+08:00",
                "length": "abc",
            },
            "预约时长（length）必须是整数（分钟）。",
        ),
        (
            {
                "time_from": "2026-12-01T09:00:00+08:00",
                "time_to": "2026-12-01T12:00:00+08:00",
                "length": "20",
            },
            "预约时长（length）必须在30到180分钟之间。",
        ),
        (
            {
                "time_from": "2026-12-01T09:00:00+08:00",
                "time_to": "2026-12-01T12:00:00+08:00",
                "length": "240",
            },
            "预约时长（length）必须在30到180分钟之间。",
        ),
        (
            {
                "time_from": "2026-12-01T09:00:00+08:00",
                "time_to": "2026-12-01T12:00:00+08:00",
                "length": "45",
            },
            "预约时长（length）必须是30分钟的整数倍。",
        ),
        (
            {"time_from": "2026-11-29T09:00:00+08:00", "time_to": "2026-11-29T12:00:00+08:00"},
            "结束时间必须在现在以后。",
        ),
    ],
)
def test_bad_parameters_are_a_clear_400(client, params, detail):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert response.json() == {"detail": detail, "error_code": QUERY_CODES.get(detail, "invalid_query")}


def test_anonymous_is_401(anon_client):
    assert (
        anon_client.get(
            URL, {"query_from": "2026-12-01T00:00:00Z", "query_to": "2026-12-02T00:00:00Z"}
        ).status_code
        == 401
    )


def _count_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "params",
    [
        {"query_from": "2026-11-30T16:00:00Z", "query_to": "2026-12-01T15:59:59Z"},
        {"time_from": "2026-12-01T08:00:00+08:00", "time_to": "2026-12-01T20:00:00+08:00"},
        {"time_from": "2026-12-01T08:00:00+08:00", "time_to": "2026-12-01T20:00:00+08:00", "length": "60"},
    ],
)
def test_query_count_does_not_grow_with_rooms_or_bookings(client, params):
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00"))
    client.get(URL, params)  # warm the token's last-use write out of the count
    few = _count_queries(client, params)
    for i in range(6):
        other = MeetingroomFactory(location=f"楼{i % 3}")
        for hour in (8, 12, 15):
            ReservationFactory(
                meetingroom=other,
                reserve_from=local(DAY, f"{hour}:00"),
                reserve_to=local(DAY, f"{hour + 1}:30"),
            )
    assert _count_queries(client, params) == few


def test_next_day_bookings_do_not_count(client):
    room = MeetingroomFactory()
    ReservationFactory(
        meetingroom=room,
        reserve_from=local(DAY + timedelta(days=1), "09:00"),
        reserve_to=local(DAY + timedelta(days=1), "12:00"),
    )
    body = search(client).json()
    assert body[0]["meetingrooms"][0]["id"] == room.pk


def test_the_bookers_phone_respects_their_directory_privacy(make_client):
    from accounts.models import Friendship, Visibility
    from accounts.tests.factories import DepartmentFactory

    department = DepartmentFactory()
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 30, 9, 0)), tick=False):
        booker = UserFactory(
            department=department, phone="13900000000", phone_visibility=Visibility.COLLEAGUES
        )
        room = MeetingroomFactory()
        ReservationFactory(
            user=booker, meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00")
        )
        params = {"query_from": "2026-11-30T16:00:00Z", "query_to": "2026-12-01T15:59:59Z"}

        def contact(viewer):
            [entry] = make_client(viewer).get(URL, params).json()
            return entry["reservations"][0]["contact"]

        stranger = UserFactory(department=DepartmentFactory())
        assert contact(stranger) is None
        assert contact(UserFactory(department=department)) == "13900000000"
        Friendship.objects.create(user=booker, friend=stranger)  # the booker trusts the stranger
        assert contact(stranger) == "13900000000"
        admirer = UserFactory(department=DepartmentFactory())
        Friendship.objects.create(user=admirer, friend=booker)  # adding the booker unlocks nothing
        assert contact(admirer) is None
        assert contact(UserFactory(is_staff=True)) == "13900000000"
        booker.phone_visibility = Visibility.NOBODY
        booker.save()
        assert contact(UserFactory(department=department)) is None
        assert contact(booker) == "13900000000"


def test_a_window_beyond_the_advance_limit_offers_nothing(client, settings):
    MeetingroomFactory()
    settings.RESERVATION_MAX_ADVANCE_DAYS = 0
    assert search(client).json() == []
    assert search(client, length="60").json() == []


def test_a_legacy_choice_can_be_booked_verbatim(client):
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "09:00"), reserve_to=local(DAY, "10:00"))
    choice = search(client, length="90").json()[0]["meetingrooms"][0]["choices"][0]
    assert choice == ["2026-12-01T10:00:00+08:00", "2026-12-01T11:30:00+08:00"]
    response = client.post(
        "/reservations/",
        {
            "reserve_from": choice[0],
            "reserve_to": choice[1],
            "description": "组会",
            "meetingroom_object": room.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert search(client, length="30").json()[0]["meetingrooms"][0]["choices"] == [
        ["2026-12-01T11:30:00+08:00", "2026-12-01T12:00:00+08:00"]
    ]


def test_the_search_shows_in_the_browsable_api(client):
    MeetingroomFactory(name="A401", description="带<白板>")
    params = {
        "time_from": "2026-12-01T09:00:00+08:00",
        "time_to": "2026-12-01T12:00:00+08:00",
        "length": "60",
    }
    response = client.get(URL, params, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    page = response.content.decode()
    # The JSON the client gets, indented, inside the page (escaped as HTML).
    assert "&quot;2026-12-01T09:00:00+08:00&quot;" in page
    assert "带&lt;白板&gt;" in page
