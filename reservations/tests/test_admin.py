"""The admin: rooms, bookings through the locked service, 冲突查询 and the calendar."""

from datetime import date, datetime, time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 1)


@pytest.fixture
def admin_client(client, superuser):
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 30, 9, 0)), tick=False):
        client.force_login(superuser)
        yield client


def add_form(room, user, start, end, **extra):
    return {
        "meetingroom": room.pk,
        "user": user.pk,
        "reserve_from_0": f"{start:%Y-%m-%d}",
        "reserve_from_1": f"{start:%H:%M:%S}",
        "reserve_to_0": f"{end:%Y-%m-%d}",
        "reserve_to_1": f"{end:%H:%M:%S}",
        "description": "院务会",
        **extra,
    }


@pytest.mark.parametrize("name", ["meetingroom", "reservation", "reservationseries"])
def test_changelists_and_add_pages_render(admin_client, name):
    ReservationFactory()
    assert admin_client.get(reverse(f"admin:reservations_{name}_changelist")).status_code == 200
    if name != "reservationseries":
        assert admin_client.get(reverse(f"admin:reservations_{name}_add")).status_code == 200


def test_admin_booking_goes_through_the_service(admin_client):
    room, booker = MeetingroomFactory(), UserFactory()
    response = admin_client.post(
        reverse("admin:reservations_reservation_add"),
        add_form(room, booker, local(DAY, "10:00"), local(DAY, "11:00")),
    )
    assert response.status_code == 302
    reservation = Reservation.objects.get()
    assert (reservation.user, reservation.meetingroom, reservation.reserve_from) == (
        booker,
        room,
        local(DAY, "10:00"),
    )


def test_admin_cannot_create_an_overlap_even_overriding_rules(admin_client):
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "12:00"))
    response = admin_client.post(
        reverse("admin:reservations_reservation_add"),
        add_form(room, UserFactory(), local(DAY, "11:00"), local(DAY, "16:00"), override_rules="on"),
    )
    assert response.status_code == 200
    assert "会议室在该时间段已经被占用。" in response.content.decode()
    assert Reservation.objects.count() == 1


def test_staff_may_override_duration_rules(admin_client):
    room = MeetingroomFactory()
    url = reverse("admin:reservations_reservation_add")
    response = admin_client.post(url, add_form(room, UserFactory(), local(DAY, "08:00"), local(DAY, "17:00")))
    assert "预约会议时间不得少于30分钟，不得超过3小时。" in response.content.decode()
    response = admin_client.post(
        url, add_form(room, UserFactory(), local(DAY, "08:00"), local(DAY, "17:00"), override_rules="on")
    )
    assert response.status_code == 302
    assert Reservation.objects.get().reserve_to == local(DAY, "17:00")


def test_change_moves_a_booking_and_checks_overlap(admin_client):
    room = MeetingroomFactory()
    booking = ReservationFactory(
        meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00")
    )
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "14:00"), reserve_to=local(DAY, "15:00"))
    url = reverse("admin:reservations_reservation_change", args=[booking.pk])
    response = admin_client.post(url, add_form(room, booking.user, local(DAY, "13:30"), local(DAY, "14:30")))
    assert "会议室在该时间段已经被占用。" in response.content.decode()
    response = admin_client.post(url, add_form(room, booking.user, local(DAY, "10:30"), local(DAY, "11:30")))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.reserve_from == local(DAY, "10:30")


def test_calendar_selection_prefills_the_add_form_and_returns_to_the_calendar(admin_client):
    room, booker = MeetingroomFactory(), UserFactory()
    url = reverse("admin:reservations_reservation_add")
    query = {
        "meetingroom": room.pk,
        "reserve_from": "2026-12-01T10:00:00+08:00",
        "reserve_to": "2026-12-01T11:30:00+08:00",
        "next": "/admin/reservations/reservation/calendar/?date=2026-12-01",
    }
    page = admin_client.get(url, query).content.decode()
    assert 'name="reserve_from_0" value="2026/12/01"' in page
    assert 'name="reserve_from_1" value="10:00"' in page and 'name="reserve_to_1" value="11:30"' in page
    response = admin_client.post(
        f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items() if k == 'next')}",
        add_form(room, booker, local(DAY, "10:00"), local(DAY, "11:30")),
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/reservations/reservation/calendar/?date=2026-12-01"


def test_conflict_lookup_lists_overlapping_bookings_across_rooms(admin_client):
    a = MeetingroomFactory(name="A401", location="勤学楼 4 楼")
    b = MeetingroomFactory(name="B201", location="图书馆 2 楼")
    booker = UserFactory(last_name="王", first_name="五", phone="13912345678")
    hit_a = ReservationFactory(
        user=booker, meetingroom=a, reserve_from=local(DAY, "09:00"), reserve_to=local(DAY, "10:30")
    )
    hit_b = ReservationFactory(
        meetingroom=b, reserve_from=local(DAY, "11:30"), reserve_to=local(DAY, "13:00")
    )
    ReservationFactory(
        meetingroom=a, reserve_from=local(DAY, "12:00"), reserve_to=local(DAY, "13:00")
    )  # touches only
    url = reverse("admin:reservations_conflicts")
    response = admin_client.get(url, {"start": "2026-12-01T10:00", "end": "2026-12-01T12:00"})
    page = response.content.decode()
    assert response.status_code == 200
    assert [r.pk for r in response.context["page"]] == [hit_a.pk, hit_b.pk]
    assert "王五" in page and "13912345678" in page
    assert reverse("admin:reservations_reservation_change", args=[hit_a.pk]) in page
    assert reverse("admin:reservations_reservation_delete", args=[hit_b.pk]) in page
    only_b = admin_client.get(
        url, {"start": "2026-12-01T10:00", "end": "2026-12-01T12:00", "location": "图书馆"}
    )
    assert [r.pk for r in only_b.context["page"]] == [hit_b.pk]
    only_a = admin_client.get(url, {"start": "2026-12-01T10:00", "end": "2026-12-01T12:00", "rooms": [a.pk]})
    assert [r.pk for r in only_a.context["page"]] == [hit_a.pk]


def test_conflict_lookup_explains_bad_input(admin_client):
    url = reverse("admin:reservations_conflicts")
    page = admin_client.get(url, {"start": "2026-12-01T12:00", "end": "2026-12-01T10:00"}).content.decode()
    assert "开始时间必须早于结束时间。" in page
    page = admin_client.get(url, {"start": "soon", "end": "2026-12-01T10:00"}).content.decode()
    assert "输入一个有效的日期/时间。" in page


def test_conflict_lookup_needs_staff(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:reservations_conflicts"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_calendar_day_view_places_bookings_and_free_cells(admin_client):
    a, b = MeetingroomFactory(name="A401"), MeetingroomFactory(name="B201")
    booking = ReservationFactory(
        meetingroom=a, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:30")
    )
    response = admin_client.get(reverse("admin:reservations_calendar"), {"date": "2026-12-01"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [c.title for c in response.context["columns"]] == ["A401", "B201"]
    ten = next(row for row in rows if row.label == "10:00")
    booked = next(cell for cell in ten.cells if not cell.free)
    assert (booked.booking.pk, booked.rowspan, booked.column.room) == (booking.pk, 3, a)
    ten_thirty = next(row for row in rows if row.label == "10:30")
    assert [cell.column.room for cell in ten_thirty.cells] == [b]  # A401's cell is under the booking
    page = response.content.decode()
    assert 'data-start="2026-12-01T10:00:00+08:00"' in page
    assert reverse("admin:reservations_reservation_change", args=[booking.pk]) in page


def test_calendar_week_and_month_views(admin_client):
    room = MeetingroomFactory()
    booking = ReservationFactory(
        meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00")
    )
    url = reverse("admin:reservations_calendar")
    week = admin_client.get(url, {"view": "week", "date": "2026-12-02", "room": room.pk})
    assert [c.day for c in week.context["columns"]][0] == date(2026, 11, 30)
    assert any(cell.booking == booking for row in week.context["rows"] for cell in row.cells)
    all_rooms = admin_client.get(url, {"view": "week", "date": "2026-12-02"})
    assert dict(all_rooms.context["week"])[DAY] == [booking]
    month = admin_client.get(url, {"view": "month", "date": "2026-12-15"})
    days = {md.day: md.bookings for week_ in month.context["weeks"] for md in week_}
    assert days[DAY] == [booking] and days[date(2026, 12, 2)] == []


def test_calendar_query_count_is_constant(admin_client):
    url = reverse("admin:reservations_calendar")
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(DAY, "10:00"), reserve_to=local(DAY, "11:00"))
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url, {"date": "2026-12-01"})
    for i in range(5):
        other = MeetingroomFactory(bookable_from=time(8), bookable_to=time(20))
        ReservationFactory(
            meetingroom=other, reserve_from=local(DAY, f"{9 + i}:00"), reserve_to=local(DAY, f"{10 + i}:00")
        )
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url, {"date": "2026-12-01"})
    assert len(many) == len(few)


def test_calendar_without_rooms_says_so(admin_client):
    response = admin_client.get(reverse("admin:reservations_calendar"), {"location": "不存在的楼"})
    assert response.status_code == 200
    assert "没有符合条件的会议室。" in response.content.decode()
