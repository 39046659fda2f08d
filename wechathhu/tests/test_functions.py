"""Database functions of ``wechathhu.core.functions``, on the engine the suite runs on."""

from datetime import UTC, datetime

import pytest

from reservations.models import Reservation
from reservations.tests.factories import ReservationFactory
from wechathhu.core.functions import EpochSeconds

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 12, 1, 1, 30, tzinfo=UTC),
        datetime(2026, 6, 30, 23, 59, 59, 999_999, tzinfo=UTC),  # the fraction is dropped
        datetime(1999, 12, 31, 16, 0, tzinfo=UTC),
    ],
)
def test_epoch_seconds_is_the_posix_time_of_the_stored_datetime(start):
    booking = ReservationFactory(reserve_from=start, reserve_to=datetime(2100, 1, 1, tzinfo=UTC))
    [(seconds, end)] = Reservation.objects.filter(pk=booking.pk).values_list(
        EpochSeconds("reserve_from"), EpochSeconds("reserve_to")
    )
    assert seconds == int(start.timestamp())
    assert end == int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
    assert isinstance(seconds, int)
