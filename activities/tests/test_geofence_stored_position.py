"""The geofence reads the position the user's WeChat reported to the official account (issue 19):
a clock-in without coordinates uses it when it is younger than ACTIVITIES_GEOFENCE_POSITION_MINUTES.
The position arrives as WeChat sends it (a signed LOCATION event through the webhook)."""

import time

import pytest

from activities import qr
from activities.models import ClockinRecord
from activities.tests.factories import EnrollmentFactory
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, openid

pytestmark = pytest.mark.django_db
SCAN = "/activities/clockins/"
PLACE = (31.9306, 118.8710)  # the activity's point, radius 200 m
NEAR = ("31.9310", "118.8712")  # ~50 m away
FAR = ("31.9500", "118.8700")  # ~2 km away


@pytest.fixture
def fenced(activity):
    activity.latitude, activity.longitude, activity.geofence_radius = *PLACE, 200
    activity.save()
    return activity


@pytest.fixture
def follower(user, fenced):
    EnrollmentFactory(activity=fenced, user=user)
    return BoundFollowerFactory(openid=openid(900), user=user)


def report(client, position, *, minutes_ago: float = 0):
    """WeChat pushes the follower's LOCATION event (its CreateTime is when the phone reported it)."""
    at = int(time.time() - minutes_ago * 60)
    body = wx.event(
        openid(900), "LOCATION", at=at, Latitude=position[0], Longitude=position[1], Precision="30"
    )
    assert wx.WeChatSide(client).post(body).status_code == 200


def scan(api_client, item, **extra):
    return api_client.post(SCAN, {"key": qr.make_key(item.pk), **extra}, format="json")


def test_a_fresh_position_near_the_activity_clocks_in(
    client, api_client, official_account, follower, sign_in
):
    report(client, NEAR, minutes_ago=1)
    response = scan(api_client, sign_in)
    assert response.status_code == 200, response.data
    record = ClockinRecord.objects.get(user=follower.user)
    # The stored position is not copied onto the record (positions stay staff-with-permission only).
    assert record.latitude is None and record.longitude is None


def test_a_fresh_position_far_away_is_refused_with_the_distance(
    client, api_client, official_account, follower, sign_in
):
    report(client, FAR)
    response = scan(api_client, sign_in)
    assert response.status_code == 400
    assert response.data["error_code"] == "too_far"
    assert "公众号" in response.data["detail"] and "米" in response.data["detail"]
    assert not ClockinRecord.objects.exists()


def test_a_stale_position_is_ignored(client, api_client, official_account, follower, sign_in, settings):
    settings.ACTIVITIES_GEOFENCE_POSITION_MINUTES = 5
    report(client, NEAR, minutes_ago=6)
    response = scan(api_client, sign_in)
    assert response.status_code == 400 and response.data["error_code"] == "location_required"
    settings.ACTIVITIES_GEOFENCE_POSITION_MINUTES = 10  # the same report is fresh for a longer setting
    assert scan(api_client, sign_in).status_code == 200


def test_without_a_stored_position_it_is_todays_behaviour(api_client, official_account, follower, sign_in):
    response = scan(api_client, sign_in)
    assert response.status_code == 400 and response.data["error_code"] == "location_required"
    near = scan(api_client, sign_in, latitude=float(NEAR[0]), longitude=float(NEAR[1]))
    assert near.status_code == 200
    assert float(ClockinRecord.objects.get().latitude) == pytest.approx(float(NEAR[0]))


def test_the_setting_at_zero_never_uses_stored_positions(
    client, api_client, official_account, follower, sign_in, settings
):
    settings.ACTIVITIES_GEOFENCE_POSITION_MINUTES = 0
    report(client, NEAR)
    assert scan(api_client, sign_in).data["error_code"] == "location_required"


def test_coordinates_in_the_request_win_over_the_stored_position(
    client, api_client, official_account, follower, sign_in
):
    report(client, NEAR)
    response = scan(api_client, sign_in, latitude=float(FAR[0]), longitude=float(FAR[1]))
    assert response.status_code == 400 and response.data["error_code"] == "too_far"
    assert "公众号" not in response.data["detail"]


def test_someone_elses_position_does_not_count(client, make_client, official_account, follower, sign_in):
    from accounts.tests.factories import UserFactory

    other = UserFactory()
    EnrollmentFactory(activity=sign_in.activity, user=other)
    report(client, NEAR)  # the follower's, bound to ``user``
    response = scan(make_client(other), sign_in)
    assert response.status_code == 400 and response.data["error_code"] == "location_required"
