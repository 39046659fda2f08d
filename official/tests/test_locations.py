"""Positions: stored from LOCATION events and location messages, visible only with the
permission, purged after the retention, trusted by the geofence only while fresh."""

import datetime as dt
import time

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from official import selectors, services
from official.models import FollowerLocation
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, openid

pytestmark = pytest.mark.django_db


def test_a_location_message_is_stored_and_acknowledged(client, official_account):
    side = wx.WeChatSide(client)
    body = wx.media(
        openid(1), "location", Location_X="31.91", Location_Y="118.78", Scale="15", Label="江宁校区"
    )
    assert "位置" in side.reply(side.post(body))
    location = FollowerLocation.objects.get()
    assert (float(location.latitude), float(location.longitude), location.label) == (
        31.91,
        118.78,
        "江宁校区",
    )


def test_the_geofence_trusts_only_a_fresh_position(client, official_account, settings):
    follower = BoundFollowerFactory(openid=openid(2))
    side = wx.WeChatSide(client)
    side.post(wx.event(openid(2), "LOCATION", Latitude="31.9", Longitude="118.8", Precision="20"))
    assert selectors.follower_recent_position(user_id=follower.user_id) is not None
    later = timezone.now() + dt.timedelta(minutes=settings.ACTIVITIES_GEOFENCE_POSITION_MINUTES, seconds=1)
    assert selectors.follower_recent_position(user_id=follower.user_id, now=later) is None


def test_positions_are_purged_after_the_retention(settings):
    settings.WECHAT_OFFICIAL_LOCATION_RETENTION_DAYS = 30
    old, fresh = BoundFollowerFactory(), BoundFollowerFactory()
    now = timezone.now()
    FollowerLocation.objects.create(
        follower=old, latitude=1, longitude=1, reported_at=now - dt.timedelta(days=31)
    )
    FollowerLocation.objects.create(
        follower=fresh, latitude=1, longitude=1, reported_at=now - dt.timedelta(days=29)
    )
    assert services.locations_purge(now=now) == 1
    assert list(FollowerLocation.objects.values_list("follower_id", flat=True)) == [fresh.pk]


def test_the_purge_task_also_drops_old_events(client, official_account, settings):
    from official.models import InboundMessage
    from official.tasks import purge_task

    wx.WeChatSide(client).post(wx.event(openid(3), "subscribe"))
    wx.WeChatSide(client).post(wx.text(openid(3), "留言"))
    InboundMessage.objects.update(received_at=timezone.now() - dt.timedelta(days=60))
    assert purge_task.apply().get() == {"locations": 0, "events": 1}
    assert list(InboundMessage.objects.values_list("kind", flat=True)) == ["text"]  # messages stay


def test_staff_see_positions_only_with_the_permission(client):
    follower = BoundFollowerFactory()
    FollowerLocation.objects.create(
        follower=follower, latitude=31.5, longitude=118.5, reported_at=timezone.now()
    )
    staff = UserFactory(is_staff=True, kind="staff")
    staff.user_permissions.add(Permission.objects.get(codename="view_follower"))
    client.force_login(staff)
    url = reverse("admin:official_followerlocation_changelist")
    assert client.get(url).status_code == 403
    follower_page = client.get(reverse("admin:official_follower_change", args=[follower.pk])).content.decode()
    assert "31.5" not in follower_page
    staff.user_permissions.add(Permission.objects.get(codename="view_followerlocation"))
    staff = type(staff).objects.get(pk=staff.pk)  # permissions are cached per instance
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200 and "31.5" in response.content.decode()


def test_a_stale_location_report_does_not_overwrite_a_newer_one(client, official_account):
    side = wx.WeChatSide(client)
    now = int(time.time())
    side.post(wx.event(openid(4), "LOCATION", at=now, Latitude="30", Longitude="120"))
    side.post(wx.event(openid(4), "LOCATION", at=now, Latitude="40", Longitude="110"))  # a repeat: same time
    assert float(FollowerLocation.objects.get().latitude) == 30
