import pytest

from accounts import demo as accounts_demo
from reservations import demo
from reservations.models import Meetingroom, Reservation, ReservationSeries

pytestmark = pytest.mark.django_db


def test_demo_seeds_two_buildings_a_week_of_bookings_and_a_series_idempotently():
    accounts_demo.seed(None)
    demo.seed(None)
    counts = (Meetingroom.objects.count(), Reservation.objects.count(), ReservationSeries.objects.count())
    assert {room.location.split()[0] for room in Meetingroom.objects.all()} == {"勤学楼", "图书馆"}
    assert counts[1] > 20 and counts[2] == 1
    assert ReservationSeries.objects.get().occurrences.count() > 0
    demo.seed(None)
    assert (
        Meetingroom.objects.count(),
        Reservation.objects.count(),
        ReservationSeries.objects.count(),
    ) == counts
