"""Every list answers in a constant number of queries (1 row vs many)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import FriendshipFactory, UserFactory

from .factories import direct, group, pdf_upload, send

pytestmark = pytest.mark.django_db


def count(client, path, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def test_conversation_list_constant(make_client, teacher, department):
    client = make_client(teacher)
    path = reverse("conversations:conversation-list")
    partner = UserFactory(department=department)
    send(direct(teacher, partner), partner, "一")
    one = count(client, path)
    for _ in range(6):
        other = UserFactory(department=department)
        send(direct(teacher, other), other, "多")
    g = group(teacher, [UserFactory(), UserFactory()])
    send(g, teacher, "群消息")
    assert count(client, path) == one


def test_message_history_constant(make_client, teacher, colleague):
    from conversations import services

    conversation = direct(teacher, colleague)
    client = make_client(colleague)
    path = reverse("conversations:message-list", kwargs={"conversation_id": conversation.pk})
    send(conversation, teacher, "一")
    one = count(client, path)
    for i in range(8):
        send(conversation, teacher if i % 2 else colleague, f"多{i}")
    outgoing = services.message_prepare(message_type="file", upload=pdf_upload())
    services.message_send(conversation=conversation, sender=teacher, outgoing=outgoing)
    assert count(client, path) == one


def test_conversation_detail_members_constant(make_client, teacher):
    small = group(teacher, [UserFactory()])
    large = group(teacher, UserFactory.create_batch(8))
    client = make_client(teacher)
    one = count(client, reverse("conversations:conversation-detail", kwargs={"conversation_id": small.pk}))
    many = count(client, reverse("conversations:conversation-detail", kwargs={"conversation_id": large.pk}))
    assert one == many


def test_friend_list_constant(make_client, teacher):
    client = make_client(teacher)
    path = reverse("conversations-root:friend-list")
    FriendshipFactory(user=teacher)
    one = count(client, path)
    for _ in range(6):
        FriendshipFactory(user=teacher)
    assert count(client, path) == one


def test_friend_list_pages_in_the_envelope_in_constant_queries(make_client, teacher):
    """``GET /friends/`` pages like the ``/api/v1/`` lists (envelope, ``pagination`` block); every
    page costs the same queries, however many friends; C27's POST and DELETE are untouched."""
    client = make_client(teacher)
    path = reverse("conversations-root:friend-list")
    friends = [FriendshipFactory(user=teacher).friend for _ in range(7)]
    body = client.get(path, {"page_size": 3}).json()
    assert body["code"] == 200 and body["message"] == "获取好友列表成功"
    assert body["data"]["pagination"] == {
        "current_page": 1,
        "page_size": 3,
        "total_items": 7,
        "total_pages": 3,
        "has_next": True,
        "has_prev": False,
    }
    pages = [client.get(path, {"page": n, "page_size": 3}).json()["data"]["friends"] for n in (1, 2, 3)]
    ids = [friend["id"] for page in pages for friend in page]
    assert sorted(ids) == sorted(f.pk for f in friends) and len(set(ids)) == 7  # each once, in order
    assert [len(page) for page in pages] == [3, 3, 1]
    assert client.get(path, {"page": 9}).json()["data"]["friends"] == []
    first, last = count(client, path, {"page_size": 3}), count(client, path, {"page": 3, "page_size": 3})
    assert first == last
    bad = client.get(path, {"page": "x"})
    assert bad.status_code == 400 and "page" in bad.json()["message"]
    assert client.delete(f"/friends/{friends[0].pk}/").status_code == 200  # C27 as before
    assert client.get(path).json()["data"]["pagination"]["total_items"] == 6


def test_unread_badge_is_one_query_beyond_auth(make_client, teacher, colleague, django_assert_num_queries):
    for _ in range(3):
        send(direct(teacher, colleague), teacher, "x")
    client = make_client(colleague)
    with django_assert_num_queries(2):  # the token's read, the sum of counters
        response = client.get(reverse("conversations:conversation-unread"))
    assert response.json()["data"]["unread_count"] == 3


def test_a_send_costs_the_same_queries_in_a_group_of_two_or_thirty(make_client, teacher):
    """The members are read once under the conversation's lock (membership, pushes, events), so a
    send's statements do not grow with the group (everyone is already pushed once)."""
    client = make_client(teacher)

    def send_count(conversation):
        path = reverse("conversations:message-list", kwargs={"conversation_id": conversation.pk})
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, {"message": "第二条"}, format="json")
        assert response.status_code == 201, response.content[:300]
        return len(queries)

    small, large = group(teacher, [UserFactory()]), group(teacher, UserFactory.create_batch(29))
    for conversation in (small, large):
        send(conversation, teacher, "第一条")  # the offline members' one push each
    assert send_count(small) == send_count(large)
