"""Categories (issue 20 item 1): the list, ``category`` on every message shape, the filter, the
per-category counts in stats and in the admin report."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from messaging import selectors
from messaging.models import Message
from messaging.tests.factories import (
    CategoryFactory,
    GlobalMessageFactory,
    MessageFactory,
    MessageRecipientFactory,
)

pytestmark = pytest.mark.django_db

CATEGORIES = reverse("messaging:category-list")
LIST = reverse("messaging:message-list")
ADMIN_LIST = reverse("messaging:admin-message-list")
STATS = reverse("messaging:message-stats")


def to(user, **kwargs):
    return MessageRecipientFactory(recipient=user, message=MessageFactory(**kwargs)).message


def test_categories_are_listed_in_their_order_without_the_disabled_ones(api_client):
    CategoryFactory(name="科研", position=2, icon="🔬", colour="#00AA00")
    CategoryFactory(name="教务", position=1)
    CategoryFactory(name="停用", position=0, is_active=False)

    body = api_client.get(CATEGORIES).json()

    assert body["code"] == 200 and body["message"] == "获取消息分类成功"
    assert [c["name"] for c in body["data"]["categories"]] == ["教务", "科研"]
    assert body["data"]["categories"][1] == {
        "id": body["data"]["categories"][1]["id"],
        "name": "科研",
        "icon": "🔬",
        "colour": "#00AA00",
        "position": 2,
    }
    assert body["data"]["pagination"]["total_items"] == 2


def test_categories_need_a_login(anon_client):
    assert anon_client.get(CATEGORIES).status_code == 401


def test_every_message_shape_carries_its_category(api_client, user, bearer, superuser):
    teaching = CategoryFactory(name="教务")
    message = to(user, category=teaching, sender=superuser)
    bare = to(user, sender=superuser)

    items = {m["id"]: m for m in api_client.get(LIST).json()["data"]["messages"]}
    assert items[message.pk]["category"] == {
        "id": teaching.pk,
        "name": "教务",
        "icon": "",
        "colour": "#1677FF",
    }
    assert items[bare.pk]["category"] is None
    detail = api_client.get(reverse("messaging:message-detail", args=[message.pk])).json()["data"]
    assert detail["category"]["name"] == "教务"

    admin = bearer(superuser)
    admin_items = {m["id"]: m for m in admin.get(ADMIN_LIST).json()["data"]["messages"]}
    assert admin_items[message.pk]["category"]["id"] == teaching.pk
    full = admin.get(reverse("messaging:admin-message-full-detail", args=[message.pk])).json()["data"]
    assert full["category"]["name"] == "教务"


def test_list_filters_by_category(api_client, user):
    teaching, research = CategoryFactory(name="教务"), CategoryFactory(name="科研")
    a = to(user, category=teaching)
    to(user, category=research)
    to(user)

    response = api_client.get(LIST, {"category_id": teaching.pk})

    assert [m["id"] for m in response.json()["data"]["messages"]] == [a.pk]
    assert api_client.get(LIST, {"category_id": "abc"}).status_code == 400


def test_sender_creates_and_changes_a_message_category(bearer, superuser):
    teaching, research = CategoryFactory(name="教务"), CategoryFactory(name="科研")
    recipient = UserFactory()
    client = bearer(superuser)
    body = {
        "title": "选课通知",
        "type": "notification",
        "priority": "normal",
        "recipient_ids": [recipient.pk],
    }

    created = client.post(ADMIN_LIST, {**body, "category_id": teaching.pk}, format="json")
    assert created.status_code == 201 and created.json()["data"]["category"]["name"] == "教务"
    pk = created.json()["data"]["id"]

    changed = client.put(reverse("messaging:admin-message-detail", args=[pk]), {"category_id": research.pk})
    assert changed.json()["data"]["category"]["name"] == "科研"
    cleared = client.put(
        reverse("messaging:admin-message-detail", args=[pk]), {"category_id": None}, format="json"
    )
    assert cleared.json()["data"]["category"] is None
    assert client.get(ADMIN_LIST, {"category_id": research.pk}).json()["data"]["messages"] == []


def test_unknown_or_disabled_category_is_a_400_in_chinese(bearer, superuser):
    old = CategoryFactory(name="旧分类", is_active=False)
    client = bearer(superuser)
    body = {"title": "x", "type": "notification", "priority": "normal", "recipient_ids": [UserFactory().pk]}

    unknown = client.post(ADMIN_LIST, {**body, "category_id": 999999}, format="json")
    assert unknown.status_code == 400 and "消息分类不存在" in unknown.json()["message"]
    disabled = client.post(ADMIN_LIST, {**body, "category_id": old.pk}, format="json")
    assert disabled.status_code == 400 and "已停用" in disabled.json()["message"]
    assert not Message.objects.filter(title="x").exists()


def test_a_message_keeps_a_category_disabled_after_it_was_sent(bearer, superuser):
    category = CategoryFactory(name="后勤")
    message = MessageFactory(sender=superuser, category=category)
    category.is_active = False
    category.save()

    response = bearer(superuser).put(
        reverse("messaging:admin-message-detail", args=[message.pk]),
        {"title": "改标题", "category_id": category.pk},
        format="json",
    )

    assert response.status_code == 200 and response.json()["data"]["category"]["name"] == "后勤"


def test_stats_count_messages_per_category(api_client, user):
    teaching, research = CategoryFactory(name="教务", position=1), CategoryFactory(name="科研", position=2)
    read = to(user, category=teaching)
    to(user, category=teaching)
    GlobalMessageFactory(category=research)
    to(user)
    api_client.post(reverse("messaging:message-read"), {"message_ids": [read.pk]}, format="json")

    counts = api_client.get(STATS).json()["data"]["category_counts"]

    assert counts == [
        {"id": teaching.pk, "name": "教务", "count": 2, "unread_count": 1},
        {"id": research.pk, "name": "科研", "count": 1, "unread_count": 1},
        {"id": None, "name": "未分类", "count": 1, "unread_count": 1},
    ]


def test_admin_report_breaks_down_by_category(superuser):
    from django.utils import timezone

    teaching = CategoryFactory(name="教务")
    MessageFactory(sender=superuser, category=teaching, audience_size=4)
    MessageFactory(sender=superuser, audience_size=2)
    today = timezone.localdate()

    report = selectors.message_report(user=superuser, date_from=today, date_to=today)

    assert [(r.label, r.messages, r.audience) for r in report.by_category] == [
        ("教务", 1, 4),
        ("（未分类）", 1, 2),
    ]


def test_admin_compose_form_offers_active_categories_only(admin_client):
    CategoryFactory(name="教务")
    CategoryFactory(name="停用分类", is_active=False)

    page = admin_client.get(reverse("admin:messaging_message_add")).content.decode()

    assert "教务" in page and "停用分类" not in page
    assert admin_client.get(reverse("admin:messaging_category_changelist")).status_code == 200
