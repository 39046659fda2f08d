"""Reminders before a meeting, and the message a booker gets when staff cancel their booking."""

from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging.models import Message, MessageRecipient
from reservations import services, tasks
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 1)


def inbox(user):
    return list(
        MessageRecipient.objects.filter(recipient=user)
        .select_related("message")
        .order_by("message__created_at")
    )


@pytest.fixture
def at_nine():
    with time_machine.travel(local(DAY, "09:00"), tick=False):
        yield


def test_the_task_reminds_bookers_of_meetings_within_the_lead_time_once(at_nine, settings):
    settings.RESERVATION_REMINDER_LEAD_MINUTES = 30
    booker = UserFactory()
    room = MeetingroomFactory(name="A401", location="勤学楼 4 楼")
    soon = ReservationFactory(
        user=booker, meetingroom=room, reserve_from=local(DAY, "09:30"), reserve_to=local(DAY, "10:30")
    )
    later = ReservationFactory(
        user=booker, meetingroom=room, reserve_from=local(DAY, "10:30"), reserve_to=local(DAY, "11:00")
    )
    started = ReservationFactory(
        meetingroom=room, reserve_from=local(DAY, "08:30"), reserve_to=local(DAY, "09:30")
    )

    assert tasks.send_reminders.delay().get() == 1
    assert tasks.send_reminders.delay().get() == 0  # idempotent: the marker is set

    [received] = inbox(booker)
    assert received.message.type == "reminder"
    assert received.message.title == "会议即将开始"
    assert (
        "勤学楼 4 楼 A401" in received.message.content
        and "2026-12-01 09:30–10:30" in received.message.content
    )
    assert received.message.expires_at == soon.reserve_to
    for booking in (soon, later, started):
        booking.refresh_from_db()
    assert soon.reminded_at == timezone.now()
    assert later.reminded_at is None and started.reminded_at is None


def test_reminders_can_be_switched_off(at_nine, settings):
    settings.RESERVATION_REMINDER_LEAD_MINUTES = 0
    ReservationFactory(reserve_from=local(DAY, "09:30"), reserve_to=local(DAY, "10:30"))
    assert services.reservation_send_due_reminders() == 0
    assert not Message.objects.exists()


def test_a_booking_is_reminded_again_only_when_its_start_moves(at_nine, time_machine):
    booker = UserFactory()
    reservation = ReservationFactory(
        user=booker, reserve_from=local(DAY, "09:30"), reserve_to=local(DAY, "10:30")
    )
    assert services.reservation_send_due_reminders() == 1

    def move(start, end):
        services.reservation_update(
            reservation=reservation,
            meetingroom=reservation.meetingroom,
            reserve_from=local(DAY, start),
            reserve_to=local(DAY, end),
            description="改期",
        )

    move("09:30", "11:00")  # longer, same start: already reminded
    assert services.reservation_send_due_reminders() == 0
    move("10:00", "11:00")
    time_machine.move_to(local(DAY, "09:40"), tick=False)
    assert services.reservation_send_due_reminders() == 1
    assert len(inbox(booker)) == 2


def test_staff_cancelling_from_the_admin_notifies_the_booker(
    client, superuser, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 30, 9, 0)), tick=False):
        client.force_login(superuser)
        booker = UserFactory()
        reservation = ReservationFactory(
            user=booker,
            meetingroom=MeetingroomFactory(name="A402"),
            reserve_from=local(DAY, "14:00"),
            reserve_to=local(DAY, "15:00"),
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:reservations_reservation_delete", args=[reservation.pk]), {"post": "yes"}
            )
    assert response.status_code == 302
    assert not Reservation.objects.filter(pk=reservation.pk).exists()
    [received] = inbox(booker)
    assert received.message.title == "会议室预约已被取消"
    assert "会议室「A402」2026-12-01 14:00–15:00" in received.message.content


def test_users_cancelling_their_own_booking_get_no_message(make_client, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 30, 9, 0)), tick=False):
        booker = UserFactory()
        reservation = ReservationFactory(
            user=booker, reserve_from=local(DAY, "14:00"), reserve_to=local(DAY, "15:00")
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert make_client(booker).delete(f"/reservations/{reservation.pk}/").status_code == 204
    assert not Message.objects.exists()


def test_staff_moving_a_booking_in_the_admin_notifies_the_booker(client, superuser):
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 30, 9, 0)), tick=False):
        client.force_login(superuser)
        booker = UserFactory()
        room = MeetingroomFactory(name="A402")
        reservation = ReservationFactory(
            user=booker, meetingroom=room, reserve_from=local(DAY, "14:00"), reserve_to=local(DAY, "15:00")
        )
        response = client.post(
            reverse("admin:reservations_reservation_change", args=[reservation.pk]),
            {
                "meetingroom": room.pk,
                "user": booker.pk,
                "reserve_from_0": "2026-12-01",
                "reserve_from_1": "16:00:00",
                "reserve_to_0": "2026-12-01",
                "reserve_to_1": "17:00:00",
                "description": "组会",
            },
        )
    assert response.status_code == 302
    [received] = inbox(booker)
    assert received.message.title == "会议室预约已被调整"
    assert "2026-12-01 14:00–15:00" in received.message.content
    assert "调整为会议室「A402」2026-12-01 16:00–17:00" in received.message.content
