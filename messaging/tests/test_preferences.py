"""Delivery preferences (issue 20 item 2): the endpoint, its validation, and the selector the
delivery rules read."""

from datetime import UTC, datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging import selectors
from messaging.models import DeliveryPreference
from messaging.preferences import DeliveryPreferences
from messaging.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

URL = reverse("messaging:message-preferences")


def test_a_new_user_has_the_defaults_and_no_row(api_client, user):
    teaching = CategoryFactory(name="教务")

    body = api_client.get(URL).json()

    assert body["code"] == 200 and body["message"] == "获取推送偏好成功"
    assert body["data"] == {
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "preferred_channel": "wechat",
        "digest_enabled": False,
        "digest_time": "07:30",
        "muted_category_ids": [],
        "categories": [
            {"id": teaching.pk, "name": "教务", "icon": "", "colour": "#1677FF", "followed": True}
        ],
        "urgent_always_pushed": True,
    }
    assert not DeliveryPreference.objects.filter(user=user).exists()


def test_put_changes_only_what_it_sends(api_client, user):
    teaching, research = CategoryFactory(name="教务"), CategoryFactory(name="科研")

    response = api_client.put(
        URL,
        {"quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "muted_category_ids": [research.pk]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["quiet_hours_start"], data["quiet_hours_end"]) == ("22:00", "07:00")
    assert {c["name"]: c["followed"] for c in data["categories"]} == {"教务": True, "科研": False}

    again = api_client.put(URL, {"digest_enabled": True, "digest_time": "18:45"}, format="json").json()[
        "data"
    ]
    assert again["quiet_hours_start"] == "22:00" and again["muted_category_ids"] == [research.pk]
    assert again["digest_enabled"] is True and again["digest_time"] == "18:45"
    assert teaching.pk not in again["muted_category_ids"]

    cleared = api_client.put(
        URL, {"quiet_hours_start": None, "quiet_hours_end": None, "muted_category_ids": []}, format="json"
    ).json()["data"]
    assert cleared["quiet_hours_start"] is None and cleared["muted_category_ids"] == []
    assert DeliveryPreference.objects.filter(user=user).count() == 1


def test_a_category_created_later_is_followed(api_client):
    old = CategoryFactory(name="教务")
    api_client.put(URL, {"muted_category_ids": [old.pk]}, format="json")
    new = CategoryFactory(name="就业")

    prefs = api_client.get(URL).json()["data"]

    assert {c["id"]: c["followed"] for c in prefs["categories"]} == {old.pk: False, new.pk: True}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, "quiet_hours_start", "HH:MM"),
        ({"quiet_hours_start": "22:00:00", "quiet_hours_end": "07:00"}, "quiet_hours_start", "HH:MM"),
        ({"quiet_hours_start": 2200, "quiet_hours_end": "07:00"}, "quiet_hours_start", "HH:MM"),
        ({"digest_time": "7点半"}, "digest_time", "HH:MM"),
        ({"quiet_hours_start": "22:00"}, "quiet_hours_end", "同时填写"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, "quiet_hours_end", "不能相同"),
        ({"preferred_channel": "sms"}, "preferred_channel", "推送渠道"),
        ({"muted_category_ids": [999999]}, "muted_category_ids", "不存在"),
        ({"muted_category_ids": ["x"]}, "muted_category_ids", ""),
        ({"digest_enabled": "maybe"}, "digest_enabled", ""),
    ],
)
def test_bad_values_are_a_400_in_chinese_and_change_nothing(api_client, user, body, field, message):
    response = api_client.put(URL, body, format="json")

    payload = response.json()
    assert response.status_code == 400 and payload["code"] == 400
    assert field in payload["data"]
    assert message in str(payload)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in payload["message"])
    assert not DeliveryPreference.objects.filter(user=user).exists()


def test_preferences_need_a_login(anon_client):
    assert anon_client.get(URL).status_code == 401
    assert anon_client.put(URL, {}, format="json").status_code == 401


def test_selector_gives_defaults_and_rows_in_constant_queries(django_assert_num_queries):
    muted = CategoryFactory(name="党团")
    users = UserFactory.create_batch(6)
    pref = DeliveryPreference.objects.create(
        user=users[0], quiet_hours_start=time(22), quiet_hours_end=time(7), digest_enabled=True
    )
    pref.muted_categories.add(muted)
    DeliveryPreference.objects.create(user=users[1], preferred_channel="email")

    with django_assert_num_queries(2):
        few = selectors.delivery_preferences_for_users(user_ids=[users[0].pk, users[2].pk])
    with django_assert_num_queries(2):
        many = selectors.delivery_preferences_for_users(user_ids=[u.pk for u in users])
    with django_assert_num_queries(0):
        assert selectors.delivery_preferences_for_users(user_ids=[]) == {}

    assert set(few) == {users[0].pk, users[2].pk} and len(many) == 6
    assert many[users[0].pk].muted_category_ids == {muted.pk} and not many[users[0].pk].follows(muted.pk)
    assert many[users[0].pk].follows(None) and many[users[0].pk].digest_enabled
    assert many[users[1].pk].preferred_channel == "email" and not many[users[1].pk].has_quiet_hours
    assert many[users[3].pk] == DeliveryPreferences(user_id=users[3].pk)
    assert many[users[3].pk].digest_time == time(7, 30) and many[users[3].pk].follows(muted.pk)


@pytest.mark.parametrize(
    ("start", "end", "local", "quiet"),
    [
        (time(22), time(7), time(23, 30), True),
        (time(22), time(7), time(6, 59), True),
        (time(22), time(7), time(7, 0), False),
        (time(22), time(7), time(12, 0), False),
        (time(22), time(7), time(22, 0), True),
        (time(12), time(14), time(13, 0), True),
        (time(12), time(14), time(14, 0), False),
        (None, None, time(3, 0), False),
    ],
)
def test_quiet_hours_are_beijing_time_and_may_wrap_midnight(start, end, local, quiet):
    prefs = DeliveryPreferences(user_id=1, quiet_hours_start=start, quiet_hours_end=end)
    beijing = datetime.combine(timezone.localdate(), local, timezone.get_default_timezone())

    assert prefs.is_quiet_at(beijing.astimezone(UTC)) is quiet
