"""Selectors the pages and the API share: locations, the per-location day view, the search checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.privacy import ContactVisibility
from accounts.tests.factories import UserFactory
from reservations import selectors
from wechathhu.core.errors import ApplicationError

from .factories import MeetingroomFactory, ReservationFactory

pytestmark = pytest.mark.django_db


def test_locations_are_the_open_rooms_distinct_and_ordered():
    MeetingroomFactory(location="勤学楼 4 楼")
    MeetingroomFactory(location="勤学楼 4 楼")
    MeetingroomFactory(location="博学楼 1 楼")
    MeetingroomFactory(location="闭门楼", is_active=False)
    locations = selectors.meetingroom_location_list()
    assert sorted(locations) == sorted(["勤学楼 4 楼", "博学楼 1 楼"])  # the order is the collation's


def test_day_view_of_one_location_lists_only_its_rooms_with_their_bookings():
    here = MeetingroomFactory(location="勤学楼 4 楼")
    MeetingroomFactory(location="博学楼 1 楼")
    booking = ReservationFactory(meetingroom=here)
    start = booking.reserve_from.replace(hour=0, minute=0)
    rooms = selectors.meetingroom_bookings(
        start=start,
        end=start + timedelta(days=1),
        visibility=ContactVisibility(UserFactory()),
        location="勤学楼",
    )
    assert [r.meetingroom.id for r in rooms] == [here.pk]
    assert len(rooms[0].reservations) == 1


@pytest.mark.parametrize(
    ("minutes", "message"),
    [(20, "必须在30到180分钟之间"), (200, "必须在30到180分钟之间"), (45, "30分钟的整数倍")],
)
def test_search_length_outside_the_booking_rules_is_refused(minutes, message):
    with pytest.raises(ApplicationError, match=message):
        selectors.search_length_check(minutes=minutes)


def test_search_length_on_the_grid_is_a_duration():
    assert selectors.search_length_check(minutes=90) == timedelta(minutes=90)
    assert selectors.search_length_check(minutes=None) is None


def test_search_window_must_be_forward_and_bounded():
    now = timezone.now()
    with pytest.raises(ApplicationError, match="早于结束时间"):
        selectors.search_window_check(start=now, end=now)
    with pytest.raises(ApplicationError, match="不得超过31天"):
        selectors.search_window_check(start=now, end=now + timedelta(days=32))
    with pytest.raises(ApplicationError, match="现在以后"):
        selectors.search_end_check(end=now - timedelta(minutes=1))
