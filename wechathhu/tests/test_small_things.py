"""Issue 16, "Small things users saw"."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from messaging.models import Message, MessageRecipient
from reservations.models import Meetingroom
from reservations.tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())


def test_demo_rooms_are_in_two_buildings(demo):
    buildings = {room.location.split()[0] for room in Meetingroom.objects.all()}
    assert len(buildings) >= 2


def test_admin_header_greets_the_whole_name(demo, client):
    admin = User.objects.get(username="admin")
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert f"<strong>{admin.full_name}</strong>" in html
    assert "<strong>理员</strong>" not in html


def test_no_demo_message_is_out_of_season(demo):
    assert not Message.objects.filter(title__contains="清明").exists()


def test_cancel_notice_names_the_admin_once(client):
    from reservations import services

    admin = UserFactory(is_staff=True, kind="staff", last_name="管", first_name="理员")
    booking = ReservationFactory(reserve_from=timezone.now() + timedelta(days=1, hours=1))
    booking.reserve_to = booking.reserve_from + timedelta(hours=1)
    booking.save()
    services.reservation_cancel(reservation=booking, by=admin, notify=True)
    content = MessageRecipient.objects.get(recipient=booking.user).message.content
    assert "管理员管理员" not in content and "已被管理员取消" in content
