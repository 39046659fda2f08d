"""Message templates (消息群发助手, issue 20 item 8): saved by senders, placeholders filled per
recipient at send time, unknown placeholders refused by name, sent to a new audience in one step."""

import pytest
from django.urls import reverse

from accounts.tests.factories import SchoolClassFactory, UserFactory
from messaging import delivery, templates_service
from messaging.models import Message, MessageTemplate, RecipientText
from messaging.personal_text import personal_content
from messaging.tests.envelope import assert_error
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:admin-template-list")
FROM_MESSAGE = reverse("messaging:admin-template-from-message")
INBOX = reverse("messaging:message-list")


def send_url(template):
    return reverse("messaging:admin-template-send", kwargs={"pk": template.pk})


def detail_url(template):
    return reverse("messaging:admin-template-detail", kwargs={"pk": template.pk})


@pytest.fixture
def sender(db):
    return UserFactory(is_staff=True, kind="staff")


@pytest.fixture
def klass(db):
    return SchoolClassFactory(name="计科2101")


@pytest.fixture
def students(klass):
    return [
        UserFactory(kind="student", last_name="张", first_name="三", school_class=klass, username="2021001"),
        UserFactory(kind="student", last_name="李", first_name="四", school_class=klass, username="2021002"),
    ]


def test_sender_saves_a_template_with_placeholders(bearer, sender):
    response = bearer(sender).post(
        LIST,
        {
            "name": "成绩通知",
            "title": "{姓名}同学的成绩",
            "content": "{班级} 的 {姓名}：请查收。",
            "priority": "high",
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 201, body
    assert body["data"]["placeholders"] == ["姓名", "班级"]
    assert body["data"]["priority"] == "high" and body["data"]["owner_id"] == sender.pk


def test_unknown_placeholders_are_a_400_naming_them(bearer, sender):
    body = assert_error(
        bearer(sender).post(
            LIST, {"name": "x", "title": "{性名}好", "content": "{班级}{宿舍}"}, format="json"
        ),
        400,
        "unknown_placeholders",
    )
    assert "{性名}" in body["message"] and "{宿舍}" in body["message"]
    assert not MessageTemplate.objects.exists()


def test_sending_fills_placeholders_per_recipient(bearer, sender, students, klass):
    template = templates_service.template_create(
        owner=sender, name="班会", title="{姓名}：班会通知", content="{班级}的{姓名}（{学号}），周五开班会。"
    )
    response = bearer(sender).post(send_url(template), {"class_ids": [klass.pk]}, format="json")
    body = response.json()
    assert response.status_code == 201, body
    message = Message.objects.get(pk=body["data"]["id"])
    assert body["data"]["title"] == "{姓名}：班会通知"  # the sender sees the template's text
    assert message.audience_size == 2
    for student, name in zip(students, ("张三", "李四"), strict=True):
        item = bearer(student).get(INBOX).json()["data"]["messages"][0]
        assert item["title"] == f"{name}：班会通知"
        assert item["content"] == f"计科2101的{name}（{student.username}），周五开班会。"
        detail = bearer(student).get(reverse("messaging:message-detail", kwargs={"pk": message.pk})).json()
        assert detail["data"]["title"] == f"{name}：班会通知"
    assert RecipientText.objects.count() == 2
    # Pushes carry the recipient's own text.
    content = personal_content(
        delivery.message_content(message), message_id=message.pk, recipient_id=students[0].pk
    )
    assert content.title == "张三：班会通知"


def test_a_template_without_placeholders_writes_no_personal_rows(bearer, sender, students):
    template = templates_service.template_create(
        owner=sender, name="普通", title="通知", content="明天停水。"
    )
    response = bearer(sender).post(
        send_url(template), {"recipient_ids": [s.pk for s in students]}, format="json"
    )
    assert response.status_code == 201
    assert not RecipientText.objects.exists()
    assert bearer(students[0]).get(INBOX).json()["data"]["messages"][0]["title"] == "通知"


def test_placeholders_cannot_go_global(bearer, superuser):
    template = templates_service.template_create(owner=superuser, name="全体", title="{姓名}你好")
    assert_error(
        bearer(superuser).post(send_url(template), {"is_global": True}, format="json"),
        400,
        "placeholders_need_recipients",
    )
    assert not Message.objects.exists()


def test_sending_follows_the_audience_rules(bearer, sender, students):
    template = templates_service.template_create(owner=sender, name="t", title="通知")
    assert_error(bearer(sender).post(send_url(template), {}, format="json"), 400, "no_recipients")
    assert_error(bearer(sender).post(send_url(template), {"is_global": True}, format="json"), 403)


def test_templates_are_private_unless_shared_and_only_the_owner_changes_them(bearer, sender):
    other = UserFactory(is_staff=True, kind="staff")
    private = templates_service.template_create(owner=sender, name="私有", title="a")
    shared = templates_service.template_create(owner=sender, name="共享", title="b", is_shared=True)
    listed = [t["id"] for t in bearer(other).get(LIST).json()["data"]["templates"]]
    assert listed == [shared.pk]
    assert_error(bearer(other).get(detail_url(private)), 404)
    assert bearer(other).get(detail_url(shared)).status_code == 200
    assert_error(bearer(other).put(detail_url(shared), {"name": "改"}, format="json"), 403)
    assert_error(bearer(other).delete(detail_url(shared)), 403)
    changed = bearer(sender).put(detail_url(shared), {"content": "{班级}"}, format="json")
    assert changed.status_code == 200 and changed.json()["data"]["placeholders"] == ["班级"]
    assert_error(
        bearer(sender).put(detail_url(shared), {"title": "{未知}"}, format="json"),
        400,
        "unknown_placeholders",
    )
    assert bearer(sender).delete(detail_url(private)).status_code == 200
    assert_error(bearer(UserFactory(kind="student")).get(LIST), 403)


def test_save_a_message_as_a_template(bearer, sender):
    message = MessageFactory(sender=sender, title="期中考试", content="{姓名}请注意", priority="urgent")
    response = bearer(sender).post(FROM_MESSAGE, {"message_id": message.pk}, format="json")
    body = response.json()
    assert response.status_code == 201, body
    assert (body["data"]["name"], body["data"]["priority"], body["data"]["placeholders"]) == (
        "期中考试",
        "urgent",
        ["姓名"],
    )
    assert_error(
        bearer(UserFactory(is_staff=True)).post(FROM_MESSAGE, {"message_id": message.pk}, format="json"), 404
    )


def test_template_list_takes_constant_queries(bearer, sender, django_assert_num_queries):
    client = bearer(sender)
    templates_service.template_create(owner=sender, name="1", title="a")
    with django_assert_num_queries(5):  # token, the sender's permissions (2), count, page with categories
        client.get(LIST)
    for n in range(5):
        templates_service.template_create(owner=sender, name=str(n), title="{姓名}")
    with django_assert_num_queries(5):
        assert len(client.get(LIST).json()["data"]["templates"]) == 6


def test_editing_or_adding_recipients_fills_the_text_again(bearer, sender, students, klass):
    from messaging import services

    template = templates_service.template_create(owner=sender, name="t", title="{姓名}好", content="{班级}")
    message = templates_service.template_send(
        template=template, sender=sender, recipient_ids=[students[0].pk]
    )
    services.message_update(message=message, data={"title": "{姓名}，改期了"})
    assert bearer(students[0]).get(INBOX).json()["data"]["messages"][0]["title"] == "张三，改期了"
    services.message_add_recipients(message=message, recipient_ids=[students[1].pk], by=sender)
    assert bearer(students[1]).get(INBOX).json()["data"]["messages"][0]["title"] == "李四，改期了"
    body = assert_error(
        bearer(sender).put(
            reverse("messaging:admin-message-detail", kwargs={"pk": message.pk}),
            {"content": "{宿舍}"},
            format="json",
        ),
        400,
        "unknown_placeholders",
    )
    assert "{宿舍}" in body["message"]
