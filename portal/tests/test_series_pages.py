"""重复预约 on the pages: a weekly series booked through the API's service, conflicts named by date
(or skipped), its occurrences listed and cancelled one by one or all at once; someone else's is 404."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reservations.models import Reservation, ReservationSeries
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db


def _next(weekday: int):
    """The next date (after today) falling on ISO ``weekday``."""
    day = timezone.localdate() + timedelta(days=1)
    while day.isoweekday() != weekday:
        day += timedelta(days=1)
    return day


def _form(meetingroom, **changes):
    data = {
        "room": meetingroom.pk,
        "description": "课题组周例会",
        "frequency": "weekly",
        "weekdays": ["2"],
        "start_time": "14:00",
        "end_time": "15:30",
        "start_date": _next(2).isoformat(),
        "count": "4",
        "on_conflict": "abort",
    }
    return {**data, **changes}


def test_book_a_weekly_series_then_cancel_one_and_the_rest(page, student):
    room = MeetingroomFactory(name="勤学楼 402")
    form = page.get(f"/m/rooms/series/new/?room={room.pk}").content.decode()
    assert f'<option value="{room.pk}" selected>' in form
    response = page.post("/m/rooms/series/new/", _form(room))
    series = ReservationSeries.objects.get(user=student)
    assert response.status_code == 302 and response["Location"] == f"/m/rooms/series/{series.pk}/"
    occurrences = list(Reservation.objects.filter(series=series).order_by("reserve_from"))
    assert len(occurrences) == 4 and all(o.reserve_from.isoweekday() == 2 for o in occurrences)
    body = page.get(f"/m/rooms/series/{series.pk}/").content.decode()
    assert "每周二 14:00–15:30" in body and body.count("取消这次") == 4
    assert "课题组周例会" in page.get("/m/rooms/series/").content.decode()

    first = occurrences[0]
    back = page.post(f"/m/rooms/mine/{first.pk}/cancel/", {"next": f"/m/rooms/series/{series.pk}/"})
    assert back["Location"] == f"/m/rooms/series/{series.pk}/"
    assert page.post(f"/m/rooms/series/{series.pk}/").status_code == 302
    assert not Reservation.objects.filter(series=series).exists()


def test_conflicting_dates_are_named_or_skipped(page, student):
    room = MeetingroomFactory()
    clash_day = _next(2) + timedelta(days=7)
    ReservationFactory(
        meetingroom=room, reserve_from=local(clash_day, "15:00"), reserve_to=local(clash_day, "16:00")
    )
    refused = page.post("/m/rooms/series/new/", _form(room))
    assert refused.status_code == 400
    assert f"以下日期会议室在该时间段已经被占用：{clash_day:%Y-%m-%d}" in refused.content.decode()
    assert not ReservationSeries.objects.exists()
    skipped = page.post("/m/rooms/series/new/", _form(room, on_conflict="skip"), follow=True)
    assert "已预约 3 次，跳过了 1 个已被占用的日期。" in skipped.content.decode()
    assert Reservation.objects.filter(user=student, series__isnull=False).count() == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weekdays": []}, "每周重复时必须选择星期几。"),
        ({"count": ""}, "必须给出截止日期（until）或重复次数（count）。"),
        ({"start_time": "16:00", "end_time": "15:00"}, "开始时间必须早于结束时间。"),
        ({"start_date": "9999-12-31"}, "日期超出范围。"),
        ({"until": "0001-01-01"}, "日期超出范围。"),
        ({"count": "99999999999999999999"}, "确保该值小于或等于10000"),
        ({"weekdays": ["8"]}, "选择一个有效的选项"),
        ({"room": "99999999999999999999999"}, "选择一个有效的选项"),
        ({"count": "1000"}, "重复预约最多"),
    ],
)
def test_bad_series_input_is_a_form_error(page, changes, message):
    room = MeetingroomFactory()
    response = page.post("/m/rooms/series/new/", _form(room, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_someone_elses_series_is_404(page, browser_for):
    from accounts.tests.factories import UserFactory

    owner = browser_for(UserFactory())
    room = MeetingroomFactory()
    owner.post("/m/rooms/series/new/", _form(room))
    series = ReservationSeries.objects.get()
    assert page.get(f"/m/rooms/series/{series.pk}/").status_code == 404
    assert page.post(f"/m/rooms/series/{series.pk}/").status_code == 404
    assert Reservation.objects.filter(series=series).count() == 4
    assert page.post(f"/m/rooms/series/{series.pk}/", {"from_date": "2026-02-30"}).status_code == 404
    assert owner.post(f"/m/rooms/series/{series.pk}/", {"from_date": "2026-02-30"}).status_code == 302
    assert Reservation.objects.filter(series=series).count() == 4  # a bad date cancels nothing
