"""seed 001 exactly (issue 20 item 9): who sees which messages in ``GET /api/v1/admin/messages``, and
the 403 / 404 rule of the sender-only operations. The page size the seed's client asks for (1 000) is
served with a constant number of queries."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.tests.factories import UserFactory
from messaging.tests.factories import CategoryFactory, GlobalMessageFactory, MessageFactory

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:admin-message-list")


def with_perms(user, *codenames):
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="messaging", codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


def ids(response):
    return {m["id"] for m in response.json()["data"]["messages"]}


def test_message_center_administrators_see_every_senders_messages(bearer):
    admin = with_perms(UserFactory(is_staff=True, kind="staff"), "view_message")
    plain_staff = UserFactory(is_staff=True, kind="staff")
    sender = with_perms(UserFactory(), "send", "view_message")  # not staff: not an administrator
    mine = MessageFactory(sender=plain_staff)
    theirs = MessageFactory(sender=sender)
    system = GlobalMessageFactory(sender=None)

    assert ids(bearer(admin).get(LIST)) == {mine.pk, theirs.pk, system.pk}
    assert ids(bearer(plain_staff).get(LIST)) == {mine.pk}
    assert ids(bearer(sender).get(LIST)) == {theirs.pk}
    assert ids(bearer(admin).get(LIST, {"sender_id": sender.pk})) == {theirs.pk}


def test_an_administrator_who_is_not_the_sender_gets_403_and_the_message_stays(bearer):
    admin = with_perms(UserFactory(is_staff=True, kind="staff"), "view_message")
    message = MessageFactory(title="原标题")
    client = bearer(admin)
    one = reverse("messaging:admin-message-detail", args=[message.pk])

    assert client.get(reverse("messaging:admin-message-full-detail", args=[message.pk])).status_code == 200
    update = client.put(one, {"title": "改"}, format="json")
    assert (update.status_code, update.json()["message"]) == (403, "只有发送者可以更新消息。")
    assert client.delete(one).json()["message"] == "只有发送者可以删除消息。"
    message.refresh_from_db()
    assert message.title == "原标题"


def test_the_sender_still_updates_and_deletes(bearer):
    sender = UserFactory(is_staff=True, kind="staff")
    message = MessageFactory(sender=sender)
    one = reverse("messaging:admin-message-detail", args=[message.pk])
    assert bearer(sender).put(one, {"title": "改"}, format="json").status_code == 200
    assert bearer(sender).delete(one).status_code == 200


def test_a_page_of_1000_takes_the_same_queries_as_a_page_of_one(superuser_client, django_assert_num_queries):
    category = CategoryFactory()
    MessageFactory(category=category)
    # token, count, page (with senders and categories), attachments
    with django_assert_num_queries(4) as one:
        body = superuser_client.get(LIST, {"page_size": 1000}).json()
    assert len(body["data"]["messages"]) == 1
    MessageFactory.create_batch(120, category=category)
    with django_assert_num_queries(len(one.captured_queries)):
        body = superuser_client.get(LIST, {"page_size": 1000}).json()
    assert len(body["data"]["messages"]) == 121 and body["data"]["pagination"]["page_size"] == 1000
