"""seed 001's user endpoints through HTTP: ``/api/v1/messages…``."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DepartmentFactory, UserFactory
from messaging import services
from messaging.models import MessageRecipient
from messaging.tests.envelope import assert_error
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:message-list")
READ = reverse("messaging:message-read")
ARCHIVE = reverse("messaging:message-archive")
UNREAD = reverse("messaging:message-unread-count")
STATS = reverse("messaging:message-stats")

USER_MESSAGE_FIELDS = {
    "id",
    "title",
    "content",
    "type",
    "priority",
    "sender_id",
    "sender",
    "is_global",
    "expires_at",
    "published_at",
    "is_active",
    "is_expired",
    "is_published",
    "is_read",
    "read_at",
    "is_archived",
    "archived_at",
    "created_at",
    "updated_at",
}
# Added to every message shape by issue 20 (seed 001's fields above stay exactly).
ADDED_FIELDS = {"category", "attachments"}


def detail(pk):
    return reverse("messaging:message-detail", args=[pk])


def to(user, **kwargs):
    """A published targeted message addressed to ``user``."""
    return MessageRecipientFactory(recipient=user, message=MessageFactory(**kwargs)).message


def ids(response):
    return [m["id"] for m in response.json()["data"]["messages"]]


# --- List ----------------------------------------------------------------------------------------


def test_list_is_enveloped_with_every_field_and_pagination(api_client, user):
    sender = UserFactory(last_name="管", first_name="理员", username="admin")
    message = to(user, title="部门会议提醒", type="reminder", priority="high", sender=sender)

    response = api_client.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "message", "data", "timestamp"}  # success: no error_code
    assert body["code"] == 200 and body["message"] == "获取消息列表成功"
    item = body["data"]["messages"][0]
    assert set(item) == USER_MESSAGE_FIELDS | ADDED_FIELDS
    assert item["id"] == message.pk
    assert item["title"] == "部门会议提醒"
    assert item["type"] == "reminder" and item["priority"] == "high"
    assert item["sender_id"] == sender.pk
    assert item["sender"] == {"id": sender.pk, "username": "admin", "real_name": "管理员"}
    assert item["is_global"] is False
    assert item["is_active"] is True and item["is_expired"] is False and item["is_published"] is True
    assert item["is_read"] is False and item["read_at"] is None
    assert item["is_archived"] is False and item["archived_at"] is None
    assert item["expires_at"] is None
    assert body["data"]["pagination"] == {
        "current_page": 1,
        "page_size": 10,
        "total_items": 1,
        "total_pages": 1,
        "has_next": False,
        "has_prev": False,
    }


def test_list_shows_what_is_addressed_to_me_and_global_messages_newest_first(api_client, user):
    now = timezone.now()
    dept = DepartmentFactory()
    user.department = dept
    user.save()
    direct = to(user, published_at=now - timedelta(hours=3))
    everyone = GlobalMessageFactory(published_at=now - timedelta(hours=2))
    via_department = services.message_send(title="系里通知", department_ids=[dept.pk])
    system = services.message_send(
        title="系统消息", recipient_ids=[user.pk], published_at=now - timedelta(hours=1)
    )

    response = api_client.get(LIST)

    assert ids(response) == [via_department.pk, system.pk, everyone.pk, direct.pk]
    system_item = next(m for m in response.json()["data"]["messages"] if m["id"] == system.pk)
    assert system_item["sender_id"] is None and system_item["sender"] is None


def test_list_hides_other_peoples_scheduled_expired_withdrawn_and_archived_messages(api_client, user):
    now = timezone.now()
    visible = to(user)
    to(UserFactory())  # someone else's
    to(user, published_at=now + timedelta(hours=1))  # scheduled
    to(user, published_at=now - timedelta(days=2), expires_at=now - timedelta(days=1))  # expired
    to(user, is_active=False)  # withdrawn
    GlobalMessageFactory(published_at=now + timedelta(hours=1))
    GlobalMessageFactory(is_active=False)
    archived = to(user)
    services.message_archive(user=user, message_ids=[archived.pk])

    assert ids(api_client.get(LIST)) == [visible.pk]
    assert ids(api_client.get(LIST, {"is_archived": "true"})) == [archived.pk]


def test_list_filters(api_client, user):
    sender = UserFactory()
    a = to(user, type="approval", priority="urgent", title="请假审批", sender=sender)
    b = to(user, type="reminder", priority="low", content="明天上午十点开会")
    c = GlobalMessageFactory(type="announcement", priority="high", title="春节放假")
    services.message_mark_read(user=user, message_ids=[b.pk, c.pk])

    assert ids(api_client.get(LIST, {"type": "approval"})) == [a.pk]
    assert ids(api_client.get(LIST, {"priority": "high"})) == [c.pk]
    assert ids(api_client.get(LIST, {"sender_id": sender.pk})) == [a.pk]
    assert ids(api_client.get(LIST, {"search": "开会"})) == [b.pk]
    assert ids(api_client.get(LIST, {"search": "春节"})) == [c.pk]
    # Python's requests sends booleans as "True"/"False", JavaScript as "true"/"false".
    assert ids(api_client.get(LIST, {"is_read": "False"})) == [a.pk]
    assert sorted(ids(api_client.get(LIST, {"is_read": "true"}))) == sorted([b.pk, c.pk])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "email"}, "type"),
        ({"priority": "critical"}, "priority"),
        ({"is_read": "maybe"}, "is_read"),
        ({"is_archived": "2"}, "is_archived"),
        ({"sender_id": "abc"}, "sender_id"),
        ({"sender_id": "99999999999999999999"}, "sender_id"),  # beyond BIGINT: a 400, not a 500
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"page_size": "-5"}, "page_size"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_the_parameter(api_client, params, field):
    body = assert_error(api_client.get(LIST, params), 400)
    assert field in body["data"]
    assert body["message"].startswith(field)


def test_page_beyond_the_end_is_an_empty_page(api_client, user):
    for _ in range(3):
        to(user)
    data = api_client.get(LIST, {"page": 5, "page_size": 2}).json()["data"]
    assert data["messages"] == []
    assert data["pagination"] == {
        "current_page": 5,
        "page_size": 2,
        "total_items": 3,
        "total_pages": 2,
        "has_next": False,
        "has_prev": True,
    }


def test_second_page_and_page_size_over_the_maximum(api_client, user):
    for _ in range(3):
        to(user)
    GlobalMessageFactory()
    second = api_client.get(LIST, {"page": 2, "page_size": 3}).json()["data"]
    assert len(second["messages"]) == 1
    assert second["pagination"]["has_prev"] is True and second["pagination"]["has_next"] is False
    capped = api_client.get(LIST, {"page_size": 1000}).json()["data"]
    assert capped["pagination"]["page_size"] == 100
    assert len(capped["messages"]) == 4


def test_list_query_count_is_constant(api_client, user, django_assert_num_queries):
    to(user)
    # token, count, page ids, page rows (with sender and my state), attachments
    with django_assert_num_queries(5):
        assert len(ids(api_client.get(LIST))) == 1
    for _ in range(6):
        to(user, sender=UserFactory())
    for _ in range(4):
        GlobalMessageFactory(sender=UserFactory())
    services.message_mark_read(
        user=user, message_ids=list(user.message_states.values_list("message_id", flat=True))
    )
    with django_assert_num_queries(5):
        assert len(ids(api_client.get(LIST))) == 10


def test_anonymous_and_bad_tokens_get_a_401_envelope(anon_client):
    assert_error(anon_client.get(LIST), 401)
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(anon_client.get(LIST), 401)
    assert_error(anon_client.get(UNREAD), 401)


def test_bearer_and_token_keywords_both_work(make_client, user):
    to(user)
    assert make_client(user, keyword="Bearer").get(UNREAD).json()["data"] == {"unread_count": 1}
    assert make_client(user, keyword="Token").get(UNREAD).json()["data"] == {"unread_count": 1}


# --- Detail --------------------------------------------------------------------------------------


def test_detail_shows_my_message_and_does_not_mark_it_read(api_client, user):
    message = to(user, title="会议")
    response = api_client.get(detail(message.pk))
    body = response.json()
    assert response.status_code == 200 and body["message"] == "获取消息成功"
    assert set(body["data"]) == USER_MESSAGE_FIELDS | ADDED_FIELDS
    assert body["data"]["is_read"] is False
    assert MessageRecipient.objects.get(message=message, recipient=user).read_at is None


def test_detail_of_a_global_message(api_client):
    message = GlobalMessageFactory()
    assert api_client.get(detail(message.pk)).json()["data"]["is_global"] is True


def test_detail_is_404_for_anything_not_addressed_to_me_or_not_visible(api_client, user):
    now = timezone.now()
    hidden = [
        to(UserFactory()),
        to(user, published_at=now + timedelta(minutes=5)),
        to(user, published_at=now - timedelta(days=2), expires_at=now - timedelta(seconds=1)),
        to(user, is_active=False),
    ]
    for message in hidden:
        body = assert_error(api_client.get(detail(message.pk)), 404)
        assert body["message"] == "消息不存在。"
    assert_error(api_client.get(detail(999999)), 404, "not_found")
    assert_error(api_client.get(detail(99999999999999999999)), 404)


# --- Read and archive ----------------------------------------------------------------------------


def test_read_marks_targeted_and_global_messages_and_ignores_what_i_cannot_see(api_client, user):
    mine = to(user)
    everyone = GlobalMessageFactory()
    not_mine = to(UserFactory())
    scheduled_global = GlobalMessageFactory(published_at=timezone.now() + timedelta(days=1))

    response = api_client.post(
        READ, {"message_ids": [mine.pk, everyone.pk, not_mine.pk, scheduled_global.pk, 999999]}
    )

    body = response.json()
    assert response.status_code == 200
    assert body == {**body, "code": 200, "message": "标记消息已读成功", "data": None}
    assert MessageRecipient.objects.get(message=mine, recipient=user).read_at is not None
    assert (
        MessageRecipient.objects.get(message=everyone, recipient=user).read_at is not None
    )  # fan-out on read
    assert not MessageRecipient.objects.filter(
        recipient=user, message__in=[not_mine, scheduled_global]
    ).exists()
    assert MessageRecipient.objects.get(message=not_mine).read_at is None
    data = api_client.get(detail(everyone.pk)).json()["data"]
    assert data["is_read"] is True and data["read_at"] is not None


def test_reading_twice_keeps_the_first_read_time(api_client, user):
    message = to(user)
    api_client.post(READ, {"message_ids": [message.pk]})
    first = MessageRecipient.objects.get(message=message).read_at
    api_client.post(READ, {"message_ids": [message.pk]})
    assert MessageRecipient.objects.get(message=message).read_at == first


@pytest.mark.parametrize("url", [READ, ARCHIVE])
@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"message_ids": []},
        {"message_ids": "1,2"},
        {"message_ids": ["a"]},
        {"message_ids": [0]},
        {"message_ids": list(range(1, 1002))},  # at most 1000 per request
        {"message_ids": [99999999999999999999]},  # beyond BIGINT
    ],
)
def test_bad_id_lists_are_a_400(api_client, url, payload):
    body = assert_error(api_client.post(url, payload), 400)
    assert "message_ids" in body["data"]


def test_archive_hides_from_the_list_marks_read_and_ignores_invisible_ids(api_client, user):
    mine = to(user)
    everyone = GlobalMessageFactory()
    not_mine = to(UserFactory())

    response = api_client.post(ARCHIVE, {"message_ids": [mine.pk, everyone.pk, not_mine.pk]})

    assert response.status_code == 200 and response.json()["message"] == "归档消息成功"
    assert ids(api_client.get(LIST)) == []
    archived = api_client.get(LIST, {"is_archived": True}).json()["data"]["messages"]
    assert {m["id"] for m in archived} == {mine.pk, everyone.pk}
    assert all(m["is_archived"] and m["archived_at"] and m["is_read"] for m in archived)
    assert MessageRecipient.objects.get(message=not_mine).archived_at is None


# --- Counts --------------------------------------------------------------------------------------


def test_unread_count_covers_targeted_and_global_messages(api_client, user):
    now = timezone.now()
    a, b = to(user), to(user)
    g1, g2 = GlobalMessageFactory(), GlobalMessageFactory()
    to(user, published_at=now + timedelta(hours=1))
    GlobalMessageFactory(published_at=now - timedelta(days=3), expires_at=now - timedelta(days=1))
    to(UserFactory())

    body = api_client.get(UNREAD).json()
    assert body["message"] == "获取未读消息数量成功" and body["data"] == {"unread_count": 4}

    api_client.post(READ, {"message_ids": [a.pk, g1.pk]})
    api_client.post(ARCHIVE, {"message_ids": [g2.pk]})
    assert api_client.get(UNREAD).json()["data"]["unread_count"] == 1
    assert b.pk  # the one left unread


def test_stats_count_every_state_and_type(api_client, user):
    a = to(user, type="notification")
    to(user, type="reminder")
    g = GlobalMessageFactory(type="announcement")
    GlobalMessageFactory(type="approval")
    to(UserFactory(), type="approval")
    api_client.post(READ, {"message_ids": [a.pk]})
    api_client.post(ARCHIVE, {"message_ids": [g.pk]})

    body = api_client.get(STATS).json()

    assert body["message"] == "获取消息统计成功"
    assert body["data"] == {
        "total_count": 4,
        "unread_count": 2,
        "read_count": 2,
        "archived_count": 1,
        "notification_count": 1,
        "announcement_count": 1,
        "reminder_count": 1,
        "approval_count": 1,
        "category_counts": [{"id": None, "name": "未分类", "count": 4, "unread_count": 2}],
    }


def test_counts_take_a_fixed_number_of_queries(api_client, user, django_assert_num_queries):
    for n in (1, 5):
        for _ in range(n):
            to(user)
            GlobalMessageFactory()
        with django_assert_num_queries(2):  # token + one UNION ALL count
            api_client.get(UNREAD)
        with django_assert_num_queries(3):  # token + one aggregate per half
            api_client.get(STATS)
