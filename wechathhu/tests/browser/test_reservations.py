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
    expect(page.locator(".errorlist")).to_have_text("查询的开始时间必须早于结束时间。")
    assert page.js_errors == []


def open_day_calendar(page, day, room_label):
    page.goto("/admin/reservations/reservation/")
    page.get_by_role("link", name="预约日历").click()
    page.fill("#rsv-date", f"{day:%Y-%m-%d}")
    page.select_option("#rsv-room", label=room_label)
    page.get_by_role("button", name="显示").click()
    expect(page.locator(".rsv-nav strong")).to_contain_text(f"{day.month}月{day.day}日")


def drag(page, day, start, end):
    """Press the mouse on the free cell starting at ``start`` and move it to the one at ``end``."""

    def centre(hhmm):
        box = page.locator(f'td[data-start="{local(day, hhmm).isoformat()}"]').bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    page.mouse.move(*centre(start))
    page.mouse.down()
    page.mouse.move(*centre(end), steps=8)


def test_booking_by_dragging_over_free_calendar_cells(page, admin_login, superuser, tomorrow):
    room = MeetingroomFactory(name="A401", location="勤学楼 4 楼")
    ReservationFactory(
        meetingroom=room, reserve_from=local(tomorrow, "10:00"), reserve_to=local(tomorrow, "11:00")
    )

    admin_login(superuser)
    open_day_calendar(page, tomorrow, "A401（勤学楼 4 楼）")
    expect(page.locator("td.rsv-booked")).to_have_count(1)

    # Press on 14:00, drag down to the 15:00 cell and let go: 14:00–15:30.
    drag(page, tomorrow, "14:00", "15:00")
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


def test_a_calendar_selection_stops_at_a_booking(page, admin_login, superuser, tomorrow):
    room = MeetingroomFactory(name="A401", location="勤学楼 4 楼")
    ReservationFactory(
        meetingroom=room, reserve_from=local(tomorrow, "10:00"), reserve_to=local(tomorrow, "11:00")
    )

    admin_login(superuser)
    open_day_calendar(page, tomorrow, "A401（勤学楼 4 楼）")
    # From 09:00 down across the 10:00–11:00 booking to 11:30: only 09:00–10:00 stays selected.
    drag(page, tomorrow, "09:00", "11:30")
    selected = page.locator("td.rsv-selected")
    expect(selected).to_have_count(2)
    assert selected.evaluate_all("tds => tds.map(td => td.dataset.start)") == [
        local(tomorrow, "09:00").isoformat(),
        local(tomorrow, "09:30").isoformat(),
    ]
    # The cell under the pointer is not lit as if it were selected.
    background = "td => getComputedStyle(td).backgroundColor"
    hovered = page.locator(f'td[data-start="{local(tomorrow, "11:30").isoformat()}"]').evaluate(background)
    assert hovered != selected.first.evaluate(background)
    page.snapshot("selection")
    page.mouse.up()

    page.wait_for_url("**/reservations/reservation/add/**")
    assert page.input_value("#id_reserve_from_1") == "09:00"
    assert page.input_value("#id_reserve_to_1") == "10:00"
    assert page.js_errors == []
