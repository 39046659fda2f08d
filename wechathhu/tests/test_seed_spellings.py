"""Issue 16 item 4: seed 002's documented spellings, paths with or without their trailing slash,
and unknown paths under /api/ answered as JSON in the envelope."""

from datetime import datetime

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from accounts.tests.factories import UserFactory
from activities import qr
from activities.models import ClockinRecord
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from repairs.models import RepairRequest
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 11, 30, 9, 10))


@pytest.fixture
def me(db):
    return UserFactory()


@pytest.fixture
def client(me, make_client):
    return make_client(me)


def _booking(room_key: str, room) -> dict:
    return {
        room_key: room.pk,
        "reserve_from": "2026-12-01T10:00:00+08:00",
        "reserve_to": "2026-12-01T11:00:00+08:00",
        "description": "组会",
    }


@pytest.mark.parametrize("room_key", ["meetingroom", "meetingroom_object"])
def test_booking_accepts_the_seeds_meetingroom_spelling(client, room_key):
    room = MeetingroomFactory()
    with time_machine.travel(NOW, tick=False):
        response = client.post("/reservations/", _booking(room_key, room), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["meetingroom"]["id"] == room.pk


def test_booking_without_a_room_names_the_field(client):
    with time_machine.travel(NOW, tick=False):
        response = client.post("/reservations/", _booking("room", MeetingroomFactory()), format="json")
    assert response.status_code == 400
    assert response.json()["meetingroom_object"] == ["该字段是必填项。"]
    assert not Reservation.objects.exists()


def test_get_enrollments_lists_mine(client, me):
    mine = EnrollmentFactory(user=me)
    EnrollmentFactory()  # someone else's
    response = client.get("/enrollments/")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["activity"] == mine.activity_id
    assert body["count"] == 1


def test_enrollment_list_query_count_is_constant(client, me, django_assert_num_queries):
    EnrollmentFactory(user=me)
    client.get("/enrollments/")
    with django_assert_num_queries(3):  # token, count, page
        client.get("/enrollments/")
    for _ in range(4):
        EnrollmentFactory(user=me)
    with django_assert_num_queries(3):
        response = client.get("/enrollments/")
    assert response.json()["count"] == 5


def test_post_clockins_with_the_activity_in_the_path(client, me):
    activity = ActivityFactory()
    item = ClockinItemFactory(activity=activity, label="签到")
    EnrollmentFactory(activity=activity, user=me)

    response = client.post(
        f"/activities/clockins/{activity.pk}/", {"key": qr.make_key(item.pk)}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["label"] == "签到"
    assert client.get(f"/activities/clockins/{activity.pk}/").json()[0]["is_clockin"] is True


def test_post_clockins_for_another_activity_is_refused(client, me):
    activity, other = ActivityFactory(), ActivityFactory()
    item = ClockinItemFactory(activity=activity)
    EnrollmentFactory(activity=activity, user=me)
    EnrollmentFactory(activity=other, user=me)

    response = client.post(f"/activities/clockins/{other.pk}/", {"key": qr.make_key(item.pk)}, format="json")

    assert response.status_code == 400
    assert not ClockinRecord.objects.filter(item=item).exists()


def test_guide_mail_stays_post_only(client):
    assert client.get("/guides/1/email/").status_code == 405


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/repairs"),
        ("post", "/enrollments"),
        ("get", "/contacts"),
        ("get", "/current-user"),
        ("get", "/api/v1/messages/unread-count/"),
        ("get", "/api/v1/messages/unread-count"),
        ("get", "/repairs/categories"),
    ],
)
def test_a_path_answers_the_same_with_or_without_its_trailing_slash(client, method, path, debug):
    body = {"location": "勤学楼 202", "description": "空调漏水"} if path == "/repairs" else {}
    with override_settings(DEBUG=debug):
        response = getattr(client, method)(path, body, format="json")
    assert response.status_code < 300 or response.status_code == 400, (path, response.status_code)
    assert response.status_code not in (301, 302, 308)
    assert response["Content-Type"].startswith("application/json")


def test_a_post_without_the_slash_is_served_not_redirected(client, me):
    response = client.post("/repairs", {"location": "勤学楼 202", "description": "空调漏水"}, format="json")
    assert response.status_code == 201
    assert RepairRequest.objects.filter(user=me).count() == 1


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/nothing/", "/api/v1/messages/abc"])
def test_an_unknown_api_path_is_a_json_404_in_the_envelope(client, path):
    response = client.get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == 404 and body["data"] is None and body["message"]
    assert body["error_code"] == "not_found" and "timestamp" in body
