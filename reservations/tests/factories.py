from datetime import date, datetime, time, timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from reservations.models import Meetingroom, Reservation


class MeetingroomFactory(DjangoModelFactory):
    class Meta:
        model = Meetingroom
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"勤学楼{400 + n}")
    location = "勤学楼 4 楼"
    label = "研讨室"
    seats_count = 10
    equipment = "投影仪"


class ReservationFactory(DjangoModelFactory):
    """A booking written directly (test set-up); bookings under test go through the services."""

    class Meta:
        model = Reservation

    user = factory.SubFactory(UserFactory)
    meetingroom = factory.SubFactory(MeetingroomFactory)
    reserve_from = factory.LazyFunction(
        lambda: timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    )
    reserve_to = factory.LazyAttribute(lambda r: r.reserve_from + timedelta(hours=1))
    description = "组会"


def local(day: date, hhmm: str) -> datetime:
    """An aware local (Asia/Shanghai) datetime on ``day`` at ``"HH:MM"``."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))
