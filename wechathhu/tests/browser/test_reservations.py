"""Room bookings in a real browser: the 冲突查询 page and booking by dragging over the calendar."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tomorrow():
    return timezone.localdate() + timedelta(days=1)


def test_conflict_lookup_lists_the_overlapping_bookings(page, admin_login, superuser, tomorrow):
    a401 = MeetingroomFactory(name="A401", location="勤学楼 4 楼")
    b201 = MeetingroomFactory(name="B201", location="图书馆 2 楼")
    booker = UserFactory(last_name="王", first_name="小明", phone="13800000001")
    ReservationFactory(
        meetingroom=a401,
        user=booker,
        reserve_from=local(tomorrow, "09:00"),
        reserve_to=local(tomorrow, "10:30"),
        description="课题组周会",
    )
    ReservationFactory(
        meetingroom=b201, reserve_from=local(tomorrow, "10:00"), reserve_to=local(tomorrow, "11:00")
    )
    ReservationFactory(  # ends when the span starts: no overlap
        meetingroom=a401, reserve_from=local(tomorrow, "08:00"), reserve_to=local(tomorrow, "09:00")
    )

    admin_login(superuser)
    page.goto("/admin/reservations/reservation/")
    page.get_by_role("link", name="冲突查询").click()
    page.fill("#id_start", f"{tomorrow:%Y-%m-%d}T09:30")
    page.fill("#id_end", f"{tomorrow:%Y-%m-%d}T10:30")
    page.get_by_role("button", name="查询").click()

    expect(page.locator("h2")).to_have_text("共 2 条重叠的预约")
    rows = page.locator("table.rsv-results tbody tr")
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[:7] == [
        "A401",
        "勤学楼 4 楼",
        f"{tomorrow:%Y-%m-%d} 09:00",
        f"{tomorrow:%Y-%m-%d} 10:30",
        f"王小明（{booker.username}）",
        "13800000001",
        "课题组周会",
    ]
    assert rows.nth(1).locator("td").first.inner_text() == "B201"
    page.snapshot("listed")

    # Limited to one room, and a span given backwards is explained on the page.
    page.select_option("#id_rooms", label="B201")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("h2")).to_have_text("共 1 条重叠的预约")
    page.fill("#id_end", f"{tomorrow:%Y-%m-%d}T08:00")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".errorlist")).to_have_text("开始时间必须早于结束时间。")
    assert page.js_errors == []


def test_booking_by_dragging_over_free_calendar_cells(page, admin_login, superuser, tomorrow):
    room = MeetingroomFactory(name="A401", location="勤学楼 4 楼")
    ReservationFactory(
        meetingroom=room, reserve_from=local(tomorrow, "10:00"), reserve_to=local(tomorrow, "11:00")
    )

    admin_login(superuser)
    page.goto("/admin/reservations/reservation/")
    page.get_by_role("link", name="预约日历").click()
    page.fill("#rsv-date", f"{tomorrow:%Y-%m-%d}")
    page.select_option("#rsv-room", label="A401（勤学楼 4 楼）")
    page.get_by_role("button", name="显示").click()
    expect(page.locator(".rsv-nav strong")).to_contain_text(f"{tomorrow.month}月{tomorrow.day}日")
    expect(page.locator("td.rsv-booked")).to_have_count(1)

    # Press on 14:00, drag down to the 15:00 cell and let go: 14:00–15:30.
    first = page.locator(f'td.rsv-free[data-start="{local(tomorrow, "14:00").isoformat()}"]')
    last = page.locator(f'td.rsv-free[data-start="{local(tomorrow, "15:00").isoformat()}"]')
    start_box, end_box = first.bounding_box(), last.bounding_box()
    page.mouse.move(start_box["x"] + start_box["width"] / 2, start_box["y"] + start_box["height"] / 2)
    page.mouse.down()
    page.mouse.move(end_box["x"] + end_box["width"] / 2, end_box["y"] + end_box["height"] / 2, steps=8)
    expect(page.locator("td.rsv-selected")).to_have_count(3)
    page.mouse.up()

    # The add form opens with the room and the span filled in; the booker defaults to the admin.
    page.wait_for_url("**/reservations/reservation/add/**")
    assert page.input_value("#id_reserve_from_0") == f"{tomorrow:%Y/%m/%d}"
    assert page.input_value("#id_reserve_from_1") == "14:00"
    assert page.input_value("#id_reserve_to_1") == "15:30"
    page.fill("#id_description", "答辩预演")
    page.get_by_role("button", name="保存", exact=True).click()

    # Saved, and back on the calendar, which shows the new booking in its place.
    page.wait_for_url("**/reservation/calendar/**")
    booking = Reservation.objects.get(description="答辩预演")
    assert (booking.meetingroom, booking.user) == (room, superuser)
    assert (booking.reserve_from, booking.reserve_to) == (local(tomorrow, "14:00"), local(tomorrow, "15:30"))
    booked = page.locator("td.rsv-booked", has_text="答辩预演")
    expect(booked).to_contain_text("14:00–15:30")
    expect(booked).to_have_attribute("rowspan", "3")
    assert page.js_errors == []
