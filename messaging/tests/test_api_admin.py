"""seed 001's sender endpoints through HTTP: ``/api/v1/admin/messages…``."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    StudentFactory,
    UserFactory,
)
from messaging.models import Message, MessageRecipient
from messaging.tests.conftest import grant
from messaging.tests.envelope import assert_error
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:admin-message-list")
GLOBAL = reverse("messaging:admin-message-global")
INBOX = reverse("messaging:message-list")
SHANGHAI = ZoneInfo("Asia/Shanghai")

SEED_MESSAGE_FIELDS = {
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
    "created_at",
    "updated_at",
}
# Added to every message shape by issue 20 (seed 001's fields above stay exactly).
MESSAGE_FIELDS = SEED_MESSAGE_FIELDS | {"category", "attachments", "remind_unread_after_hours"}
RECIPIENT_FIELDS = {
    "id",
    "message_id",
    "recipient_id",
    "recipient",
    "is_read",
    "read_at",
    "is_archived",
    "archived_at",
    "created_at",
    "updated_at",
}


def one(pk):
    return reverse("messaging:admin-message-detail", args=[pk])


def full(pk):
    return reverse("messaging:admin-message-full-detail", args=[pk])


def recipients(pk):
    return reverse("messaging:admin-message-recipients", args=[pk])


def ids(response):
    return [m["id"] for m in response.json()["data"]["messages"]]


def seed_payload(recipient_ids):
    return {
        "title": "部门会议提醒",
        "content": "明天上午10点部门会议,请准时参加。会议地点:3楼会议室。",
        "type": "reminder",
        "priority": "normal",
        "recipient_ids": recipient_ids,
        "is_global": False,
        "expires_at": "2099-12-31",
        "published_at": "2024-01-01T09:00:00Z",
    }


# --- Create --------------------------------------------------------------------------------------


def test_create_answers_201_with_the_message_response(staff_client, staff_user):
    users = UserFactory.create_batch(3)

    response = staff_client.post(LIST, seed_payload([u.pk for u in users]))

    body = response.json()
    assert response.status_code == 201
    assert body["code"] == 200 and body["message"] == "创建成功"
    data = body["data"]
    assert set(data) == MESSAGE_FIELDS
    assert data["title"] == "部门会议提醒" and data["type"] == "reminder" and data["priority"] == "normal"
    assert data["sender_id"] == staff_user.pk
    assert data["sender"] == {
        "id": staff_user.pk,
        "username": staff_user.username,
        "real_name": staff_user.full_name,
    }
    assert data["is_global"] is False and data["is_active"] is True
    assert data["is_expired"] is False and data["is_published"] is True
    # A date-only expiry is the end of that day in Asia/Shanghai.
    assert datetime.fromisoformat(data["expires_at"]) == datetime(2099, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(data["published_at"]) == datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("UTC"))
    message = Message.objects.get(pk=data["id"])
    assert set(message.recipient_users.values_list("pk", flat=True)) == {u.pk for u in users}


def test_created_message_reaches_its_recipients_only(staff_client, make_client):
    reader, outsider = UserFactory(), UserFactory()
    message_id = staff_client.post(LIST, seed_payload([reader.pk])).json()["data"]["id"]
    assert [m["id"] for m in make_client(reader).get(INBOX).json()["data"]["messages"]] == [message_id]
    assert make_client(outsider).get(INBOX).json()["data"]["messages"] == []


def test_create_with_audiences(staff_client):
    dept = DepartmentFactory()
    in_dept = UserFactory(department=dept)
    school_class = SchoolClassFactory()
    student = StudentFactory(school_class=school_class)
    member = GroupMembershipFactory(group=CampusGroupFactory()).user
    staff_member = UserFactory(kind="staff")
    UserFactory(kind="teacher")  # someone outside the audience (else it would cover everyone)

    response = staff_client.post(
        LIST,
        {
            "title": "通知",
            "type": "notification",
            "priority": "low",
            "department_ids": [dept.pk],
            "class_ids": [school_class.pk],
            "group_ids": [member.group_memberships.get().group_id],
            "kinds": ["staff"],
        },
    )

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["data"]["id"])
    addressed = set(message.recipient_users.values_list("pk", flat=True))
    assert {in_dept.pk, student.pk, member.pk, staff_member.pk} <= addressed
    assert message.audience_size == len(addressed)


def test_scheduled_message_is_not_published_yet(staff_client, make_client):
    reader = UserFactory()
    payload = seed_payload([reader.pk]) | {"published_at": (timezone.now() + timedelta(days=1)).isoformat()}
    data = staff_client.post(LIST, payload).json()["data"]
    assert data["is_published"] is False
    assert make_client(reader).get(INBOX).json()["data"]["messages"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"type": None}, "type"),
        ({"type": "email"}, "type"),
        ({"priority": "critical"}, "priority"),
        ({"recipient_ids": "1,2"}, "recipient_ids"),
        ({"recipient_ids": [999999]}, "recipient_ids"),
        ({"recipient_ids": []}, "recipient_ids"),
        ({"department_ids": [999999]}, "department_ids"),
        ({"kinds": ["alien"]}, "kinds"),
        ({"expires_at": "2024-13-45"}, "expires_at"),
        ({"expires_at": "2023-12-31"}, "expires_at"),  # before its publication
        ({"published_at": "yesterday"}, "published_at"),
        ({"published_at": "0138-10-09T15:00:00Z"}, "published_at"),  # found by fuzzing
        ({"expires_at": "3024-12-31"}, "expires_at"),
        ({"is_global": "maybe"}, "is_global"),
    ],
)
def test_create_rejects_bad_input_with_a_400_naming_the_field(staff_client, change, field):
    user = UserFactory()
    payload = {k: v for k, v in (seed_payload([user.pk]) | change).items() if v is not None}
    body = assert_error(staff_client.post(LIST, payload), 400)
    assert field in body["data"]
    assert not Message.objects.exists()


def test_create_requires_the_required_fields(staff_client):
    body = assert_error(staff_client.post(LIST, {}), 400, "required")
    assert {"title", "type", "priority"} <= set(body["data"])


def test_targeted_message_to_nobody_active_is_a_400(staff_client):
    inactive = UserFactory(is_active=False)
    body = assert_error(staff_client.post(LIST, seed_payload([inactive.pk])), 400, "no_recipients")
    assert "没有可接收消息的用户" in body["message"]


def test_users_without_the_send_permission_get_403(api_client, user):
    assert_error(api_client.post(LIST, seed_payload([user.pk])), 403, "permission_denied")
    assert_error(api_client.get(LIST), 403, "permission_denied")
    assert_error(api_client.post(GLOBAL, {"title": "x", "type": "notification", "priority": "low"}), 403)


def test_anonymous_gets_401(anon_client):
    assert_error(anon_client.get(LIST), 401, "not_authenticated")
    assert_error(anon_client.post(LIST, {}), 401)
    assert_error(anon_client.post(GLOBAL, {}), 401)


def test_teacher_granted_the_send_permission_may_send(make_client, counsellor):
    student = StudentFactory()
    response = make_client(counsellor, keyword="Bearer").post(LIST, seed_payload([student.pk]))
    assert response.status_code == 201


def test_global_through_create_needs_send_global(staff_client, superuser_client):
    payload = {"title": "全体", "type": "announcement", "priority": "high", "is_global": True}
    body = assert_error(staff_client.post(LIST, payload), 403, "global_not_allowed")
    assert body["message"] == "您没有发送全局消息的权限。"
    response = superuser_client.post(LIST, payload)
    assert response.status_code == 201 and response.json()["data"]["is_global"] is True


# --- Global --------------------------------------------------------------------------------------


def test_send_global_answers_201_and_writes_no_rows(make_client, superuser_client):
    UserFactory.create_batch(3)
    payload = {
        "title": "系统维护通知",
        "content": "系统将于今晚22:00进行维护,预计2小时,请提前做好相关工作安排。",
        "type": "announcement",
        "priority": "high",
        "expires_at": "2099-12-31",
        "published_at": "2024-01-01T20:00:00Z",
    }

    response = superuser_client.post(GLOBAL, payload)

    body = response.json()
    assert response.status_code == 201 and body["code"] == 200 and body["message"] == "发送全局消息成功"
    assert set(body["data"]) == MESSAGE_FIELDS and body["data"]["is_global"] is True
    assert MessageRecipient.objects.count() == 0
    someone = UserFactory()
    assert [m["id"] for m in make_client(someone).get(INBOX).json()["data"]["messages"]] == [
        body["data"]["id"]
    ]


def test_send_global_needs_the_permission(staff_client, make_client, staff_user):
    payload = {"title": "x", "type": "notification", "priority": "low"}
    assert assert_error(staff_client.post(GLOBAL, payload), 403)["message"] == "您没有发送全局消息的权限。"
    holder = grant(staff_user, "send_global")
    assert make_client(holder).post(GLOBAL, payload).status_code == 201


def test_send_global_validates(superuser_client):
    body = assert_error(superuser_client.post(GLOBAL, {"title": "x", "type": "memo", "priority": "low"}), 400)
    assert "type" in body["data"]


# --- List ----------------------------------------------------------------------------------------


def test_list_shows_my_messages_and_all_to_a_superuser(staff_client, staff_user, superuser_client):
    mine = MessageFactory(sender=staff_user)
    theirs = MessageFactory()
    system = GlobalMessageFactory(sender=None)

    response = staff_client.get(LIST)

    body = response.json()
    assert body["message"] == "获取消息列表成功"
    assert ids(response) == [mine.pk]
    assert set(body["data"]["messages"][0]) == MESSAGE_FIELDS
    assert set(ids(superuser_client.get(LIST))) == {mine.pk, theirs.pk, system.pk}


def test_list_filters(superuser_client):
    alice = UserFactory()
    jan = datetime(2024, 1, 15, 10, tzinfo=SHANGHAI)
    a = MessageFactory(type="reminder", priority="high", title="部门会议", sender=alice, published_at=jan)
    b = GlobalMessageFactory(type="announcement", priority="low", content="春节放假", is_active=False)
    c = MessageFactory(
        type="approval", priority="urgent", published_at=datetime(2024, 3, 1, 0, 30, tzinfo=SHANGHAI)
    )

    def get(**params):
        return set(ids(superuser_client.get(LIST, params)))

    assert get(type="reminder") == {a.pk}
    assert get(priority="urgent") == {c.pk}
    assert get(sender_id=alice.pk) == {a.pk}
    assert get(is_active="false") == {b.pk}
    assert get(is_global="True") == {b.pk}
    assert get(is_global="false") == {a.pk, c.pk}
    assert get(search="会议") == {a.pk}
    assert get(search="春节") == {b.pk}
    assert get(date_from="2024-01-01", date_to="2024-01-31") == {a.pk}
    assert get(date_from="2024-03-01") == {b.pk, c.pk}  # b was published now
    assert get(date_to="2024-02-29") == {a.pk}  # 2024-03-01 00:30 Shanghai is still Feb in UTC


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2024-02-30"}, "date_from"),
        ({"date_from": "2024-03-01", "date_to": "2024-01-01"}, "date_to"),
        ({"is_active": "yes please"}, "is_active"),
        ({"type": "memo"}, "type"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_list_rejects_bad_parameters(superuser_client, params, field):
    assert field in assert_error(superuser_client.get(LIST, params), 400)["data"]


def test_list_pagination_edges(staff_client, staff_user):
    for _ in range(3):
        MessageFactory(sender=staff_user)
    beyond = staff_client.get(LIST, {"page": 3, "page_size": 2}).json()["data"]
    assert beyond["messages"] == []
    assert beyond["pagination"] == {
        "current_page": 3,
        "page_size": 2,
        "total_items": 3,
        "total_pages": 2,
        "has_next": False,
        "has_prev": True,
    }
    capped = staff_client.get(LIST, {"page_size": 5000}).json()["data"]["pagination"]
    assert capped["page_size"] == 1000 and capped["total_pages"] == 1


def test_list_query_count_is_constant(superuser_client, django_assert_num_queries):
    MessageFactory()
    # token, count, page (with senders), attachments
    with django_assert_num_queries(4):
        assert len(ids(superuser_client.get(LIST))) == 1
    for _ in range(5):
        MessageFactory(sender=UserFactory())
        GlobalMessageFactory(sender=None)
    with django_assert_num_queries(4):
        assert len(ids(superuser_client.get(LIST))) == 10


# --- Update and delete ---------------------------------------------------------------------------


def test_update_by_the_sender(staff_client, staff_user, make_client):
    reader = UserFactory()
    message = MessageRecipientFactory(recipient=reader, message=MessageFactory(sender=staff_user)).message
    payload = {
        "title": "更新后的会议提醒",
        "content": "会议时间改为下午2点,地点不变。",
        "priority": "high",
        "is_active": True,
    }

    response = staff_client.put(one(message.pk), payload)

    body = response.json()
    assert response.status_code == 200 and body["message"] == "更新消息成功"
    assert set(body["data"]) == MESSAGE_FIELDS
    assert body["data"]["title"] == "更新后的会议提醒" and body["data"]["priority"] == "high"
    assert body["data"]["type"] == message.type  # absent fields are kept
    inbox = make_client(reader).get(INBOX).json()["data"]["messages"]
    assert inbox[0]["title"] == "更新后的会议提醒"


def test_withdrawing_through_update_hides_the_message(staff_client, staff_user, make_client):
    reader = UserFactory()
    message = MessageRecipientFactory(recipient=reader, message=MessageFactory(sender=staff_user)).message
    staff_client.put(one(message.pk), {"is_active": False})
    assert make_client(reader).get(INBOX).json()["data"]["messages"] == []
    assert (
        make_client(reader).get(reverse("messaging:message-unread-count")).json()["data"]["unread_count"] == 0
    )


def test_update_validates(staff_client, staff_user):
    message = MessageFactory(sender=staff_user)
    assert "priority" in assert_error(staff_client.put(one(message.pk), {"priority": "asap"}), 400)["data"]
    assert (
        "expires_at"
        in assert_error(staff_client.put(one(message.pk), {"expires_at": "2000-01-01"}), 400)["data"]
    )
    assert "title" in assert_error(staff_client.put(one(message.pk), {"title": ""}), 400)["data"]


def test_only_the_sender_may_update_or_delete(staff_client, superuser_client):
    theirs = MessageFactory()
    # A sender who cannot see it: 404 (its existence is not revealed).
    assert (
        assert_error(staff_client.put(one(theirs.pk), {"title": "x"}), 404, "not_found")["message"]
        == "消息不存在。"
    )
    assert_error(staff_client.delete(one(theirs.pk)), 404)
    assert_error(staff_client.post(recipients(theirs.pk), {"recipient_ids": [UserFactory().pk]}), 404)
    # A message-center administrator sees it, but only the sender changes it: 403.
    assert superuser_client.get(full(theirs.pk)).status_code == 200
    assert (
        assert_error(superuser_client.put(one(theirs.pk), {"title": "改"}), 403)["message"]
        == "只有发送者可以更新消息。"
    )
    assert assert_error(superuser_client.delete(one(theirs.pk)), 403)["message"] == "只有发送者可以删除消息。"
    body = assert_error(
        superuser_client.post(recipients(theirs.pk), {"recipient_ids": [UserFactory().pk]}), 403
    )
    assert body["message"] == "只有发送者可以添加接收者。"
    theirs.refresh_from_db()
    assert theirs.title != "改" and Message.objects.filter(pk=theirs.pk).exists()


def test_plain_users_get_403_and_anonymous_401_on_update(api_client, anon_client):
    message = MessageFactory()
    assert_error(api_client.put(one(message.pk), {"title": "x"}), 403)
    assert_error(anon_client.delete(one(message.pk)), 401)


def test_delete(staff_client, staff_user):
    message = MessageRecipientFactory(message=MessageFactory(sender=staff_user)).message

    response = staff_client.delete(one(message.pk))

    body = response.json()
    assert response.status_code == 200
    assert body["code"] == 200 and body["message"] == "删除消息成功" and body["data"] is None
    assert not Message.objects.exists() and not MessageRecipient.objects.exists()
    assert_error(staff_client.delete(one(message.pk)), 404)


# --- Detail and recipients -----------------------------------------------------------------------


def test_detail_lists_recipients_with_their_state(staff_client, staff_user, make_client):
    reader, other = UserFactory(last_name="张", first_name="三"), UserFactory()
    message = MessageFactory(sender=staff_user)
    MessageRecipientFactory(message=message, recipient=reader)
    MessageRecipientFactory(message=message, recipient=other)
    make_client(reader).post(reverse("messaging:message-read"), {"message_ids": [message.pk]})

    response = staff_client.get(full(message.pk))

    body = response.json()
    assert response.status_code == 200 and body["message"] == "获取消息详情成功"
    assert set(body["data"]) == MESSAGE_FIELDS | {"recipients"}
    rows = body["data"]["recipients"]
    assert [set(r) for r in rows] == [RECIPIENT_FIELDS, RECIPIENT_FIELDS]
    first = rows[0]
    assert first["message_id"] == message.pk and first["recipient_id"] == reader.pk
    assert first["recipient"] == {"id": reader.pk, "username": reader.username, "real_name": "张三"}
    assert first["is_read"] is True and first["read_at"]
    assert first["is_archived"] is False and first["archived_at"] is None
    assert rows[1]["is_read"] is False and rows[1]["read_at"] is None


def test_detail_of_a_global_message_lists_who_acted(superuser_client, make_client):
    message = GlobalMessageFactory()
    reader = UserFactory()
    UserFactory()
    make_client(reader).post(reverse("messaging:message-archive"), {"message_ids": [message.pk]})
    rows = superuser_client.get(full(message.pk)).json()["data"]["recipients"]
    assert [(r["recipient_id"], r["is_read"], r["is_archived"]) for r in rows] == [(reader.pk, True, True)]


def test_detail_query_count_is_constant(superuser_client, django_assert_num_queries):
    message = MessageFactory()
    MessageRecipientFactory(message=message)
    with django_assert_num_queries(4):  # token, message with sender, recipients with users, attachments
        superuser_client.get(full(message.pk))
    for _ in range(5):
        MessageRecipientFactory(message=message)
    with django_assert_num_queries(4):
        assert len(superuser_client.get(full(message.pk)).json()["data"]["recipients"]) == 6


def test_detail_of_someone_elses_message_is_404(staff_client):
    assert_error(staff_client.get(full(MessageFactory().pk)), 404)
    assert_error(staff_client.get(full(999999)), 404)


def test_add_recipients(staff_client, staff_user, make_client):
    first, second, third = UserFactory.create_batch(3)
    message = MessageRecipientFactory(
        recipient=first, message=MessageFactory(sender=staff_user, audience_size=1)
    ).message

    response = staff_client.post(recipients(message.pk), {"recipient_ids": [first.pk, second.pk, third.pk]})

    body = response.json()
    assert response.status_code == 200 and body["message"] == "添加接收者成功" and body["data"] is None
    assert set(message.recipient_users.values_list("pk", flat=True)) == {first.pk, second.pk, third.pk}
    message.refresh_from_db()
    assert message.audience_size == 3
    assert [m["id"] for m in make_client(third).get(INBOX).json()["data"]["messages"]] == [message.pk]


def test_add_recipients_rejects_bad_input(superuser_client, staff_client, staff_user):
    mine = MessageFactory(sender=staff_user)
    assert "recipient_ids" in assert_error(staff_client.post(recipients(mine.pk), {}), 400)["data"]
    assert (
        "recipient_ids"
        in assert_error(staff_client.post(recipients(mine.pk), {"recipient_ids": [999999]}), 400)["data"]
    )
    everyone = GlobalMessageFactory(sender=staff_user)
    body = assert_error(staff_client.post(recipients(everyone.pk), {"recipient_ids": [staff_user.pk]}), 400)
    assert body["message"] == "recipient_ids: 全局消息已发送给所有用户，无需添加接收者。"
    assert_error(staff_client.post(recipients(MessageFactory().pk), {"recipient_ids": [staff_user.pk]}), 404)


def test_a_message_to_ten_thousand_listed_recipients_is_written_in_batches(staff_client, settings):
    from accounts.models import User

    settings.MESSAGING_RECIPIENT_BATCH_SIZE = 2000
    User.objects.bulk_create(
        [User(username=f"B{i:05d}", password="!") for i in range(10000)], batch_size=2000
    )
    ids = list(User.objects.filter(username__startswith="B").values_list("pk", flat=True))

    response = staff_client.post(LIST, seed_payload(ids))

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["data"]["id"])
    assert message.audience_size == 10000 == MessageRecipient.objects.filter(message=message).count()
    too_many = assert_error(staff_client.post(LIST, seed_payload([*ids, *range(1, 2)])), 400)
    assert "recipient_ids" in too_many["data"]


def test_recipient_list_is_paginated_and_filterable(staff_client, staff_user, make_client):
    message = MessageFactory(sender=staff_user)
    rows = [MessageRecipientFactory(message=message) for _ in range(5)]
    make_client(rows[1].recipient).post(reverse("messaging:message-read"), {"message_ids": [message.pk]})
    make_client(rows[3].recipient).post(reverse("messaging:message-archive"), {"message_ids": [message.pk]})

    response = staff_client.get(recipients(message.pk), {"page_size": 2})

    body = response.json()
    assert response.status_code == 200 and body["message"] == "获取接收者列表成功"
    assert [r["id"] for r in body["data"]["recipients"]] == [rows[0].pk, rows[1].pk]
    assert set(body["data"]["recipients"][0]) == RECIPIENT_FIELDS
    assert body["data"]["pagination"]["total_items"] == 5 and body["data"]["pagination"]["total_pages"] == 3

    def ids_for(**params):
        return [
            r["recipient_id"]
            for r in staff_client.get(recipients(message.pk), params).json()["data"]["recipients"]
        ]

    unread = [r.recipient_id for r in rows if r.pk not in (rows[1].pk, rows[3].pk)]
    assert ids_for(is_read="false") == unread
    assert ids_for(is_read="true") == [rows[1].recipient_id, rows[3].recipient_id]
    assert ids_for(is_archived="true") == [rows[3].recipient_id]
    assert (
        "is_read"
        in assert_error(staff_client.get(recipients(message.pk), {"is_read": "perhaps"}), 400)["data"]
    )
    assert_error(staff_client.get(recipients(MessageFactory().pk)), 404)


def test_recipient_list_query_count_is_constant(superuser_client, django_assert_num_queries):
    message = MessageFactory()
    MessageRecipientFactory(message=message)
    with django_assert_num_queries(4):  # token, message, count, page with users
        superuser_client.get(recipients(message.pk))
    for _ in range(6):
        MessageRecipientFactory(message=message)
    with django_assert_num_queries(4):
        assert len(superuser_client.get(recipients(message.pk)).json()["data"]["recipients"]) == 7


def test_detail_lists_at_most_the_configured_number_of_recipients(superuser_client, settings):
    settings.MESSAGING_DETAIL_RECIPIENTS = 3
    message = MessageFactory()
    for _ in range(5):
        MessageRecipientFactory(message=message)
    assert len(superuser_client.get(full(message.pk)).json()["data"]["recipients"]) == 3


def test_expiry_today_keeps_the_message_until_the_end_of_the_day_and_expired_ones_say_so(
    staff_client, staff_user, make_client
):
    reader = UserFactory()
    today = timezone.localdate().isoformat()
    payload = seed_payload([reader.pk]) | {"expires_at": today, "published_at": None}
    data = staff_client.post(LIST, {k: v for k, v in payload.items() if v is not None}).json()["data"]
    assert datetime.fromisoformat(data["expires_at"]) == datetime.fromisoformat(f"{today}T23:59:59+08:00")
    assert data["is_expired"] is False
    assert [m["id"] for m in make_client(reader).get(INBOX).json()["data"]["messages"]] == [data["id"]]

    now = timezone.now()
    expired = MessageFactory(
        sender=staff_user, published_at=now - timedelta(days=2), expires_at=now - timedelta(days=1)
    )
    listed = {m["id"]: m for m in staff_client.get(LIST).json()["data"]["messages"]}
    assert listed[expired.pk]["is_expired"] is True and listed[expired.pk]["is_published"] is True


def test_sending_is_throttled_per_sender_but_reading_the_list_is_not(staff_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "message_send": "2/min",
        },
    }
    user = UserFactory()
    for _ in range(2):
        assert staff_client.post(LIST, seed_payload([user.pk])).status_code == 201
    body = assert_error(staff_client.post(LIST, seed_payload([user.pk])), 429, "throttled")
    assert body["message"].startswith("发送消息过于频繁")
    assert staff_client.get(LIST).status_code == 200
    assert Message.objects.count() == 2
