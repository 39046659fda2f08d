"""Presence: a ping runs no SQL, others see it as the owner's privacy allows, logging out marks
offline, and a cache outage answers ``unknown`` instead of failing."""

import pytest
from django.urls import reverse

from accounts.models import User, Visibility
from accounts.tests.factories import FriendshipFactory, UserFactory
from wechathhu.tests.test_faults import DEAD_REDIS, redis_cache

from .factories import direct

pytestmark = pytest.mark.django_db
PING = reverse("conversations:presence-ping")


def partner_presence(client):
    data = client.get(reverse("conversations:conversation-list")).json()["data"]
    return data["conversations"][0]["other_user"]["presence"]


def test_a_ping_runs_no_sql(settings, make_client, teacher, django_assert_num_queries):
    settings.TOKEN_CACHE_SECONDS = 60
    client = make_client(teacher)
    assert client.post(PING).json()["data"]["state"] == "online"  # warms the token cache, persists last_seen
    with django_assert_num_queries(0):
        response = client.post(PING)
    assert response.status_code == 200 and response.json()["data"]["state"] == "online"


def test_last_seen_is_persisted_at_most_once_per_interval(make_client, teacher):
    client = make_client(teacher)
    client.post(PING)
    first = User.objects.get(pk=teacher.pk).last_seen_at
    assert first is not None
    client.post(PING)
    assert User.objects.get(pk=teacher.pk).last_seen_at == first  # gated: no second write


def test_colleague_sees_online_then_offline_after_logout(make_client, teacher, colleague):
    direct(teacher, colleague)
    teacher_client = make_client(teacher)
    teacher_client.post(PING)
    viewer = make_client(colleague)
    assert partner_presence(viewer)["state"] == "online"
    assert teacher_client.post(reverse("accounts:logout")).status_code == 204
    presence = partner_presence(viewer)
    assert presence["state"] == "offline" and presence["last_seen_at"] is not None


def test_presence_hidden_per_privacy(make_client, teacher):
    stranger = UserFactory()  # another department, not a friend
    direct(teacher, stranger)
    make_client(teacher).post(PING)
    # Default rule: colleagues and friends.
    assert partner_presence(make_client(stranger)) == {"state": "hidden", "last_seen_at": None}
    FriendshipFactory(user=teacher, friend=stranger)  # teacher added the stranger: now trusted
    assert partner_presence(make_client(stranger))["state"] == "online"
    User.objects.filter(pk=teacher.pk).update(presence_visibility=Visibility.NOBODY)
    assert partner_presence(make_client(stranger))["state"] == "hidden"
    User.objects.filter(pk=teacher.pk).update(presence_visibility=Visibility.EVERYONE)
    assert partner_presence(make_client(stranger))["state"] == "online"


def test_presence_visibility_is_set_with_the_card(make_client, teacher):
    client = make_client(teacher)
    response = client.put(
        reverse("accounts:current-user-meta"), {"presence_visibility": "nobody"}, format="json"
    )
    assert response.status_code == 200 and response.json()["presence_visibility"] == "nobody"


def test_redis_down_means_unknown_never_500(settings, make_client, teacher, colleague):
    direct(teacher, colleague)
    client = make_client(teacher)
    settings.CACHES = redis_cache(DEAD_REDIS, timeout=0.2)
    response = client.post(PING)
    assert response.status_code == 200 and response.json()["data"]["state"] == "unknown"
    assert partner_presence(make_client(colleague))["state"] == "unknown"
    # Sending still works (events and pushes degrade quietly).
    conversation_id = client.get(reverse("conversations:conversation-list")).json()["data"]["conversations"][
        0
    ]["id"]
    sent = client.post(
        reverse("conversations:message-list", kwargs={"conversation_id": conversation_id}),
        {"message": "在吗"},
        format="json",
    )
    assert sent.status_code == 201
    events = client.get(reverse("conversations:conversation-events"), {"since": 0})
    assert events.status_code == 200 and events.json()["data"]["seq"] is None


def test_friends_list_with_presence_and_avatar(make_client, teacher, colleague):
    FriendshipFactory(user=teacher, friend=colleague)
    make_client(colleague).post(PING)
    response = make_client(teacher).get(reverse("conversations-root:friend-list"))
    assert response.status_code == 200
    [friend] = response.json()["data"]["friends"]
    assert friend["id"] == colleague.pk and friend["nickname"] == colleague.full_name
    assert "avatar" in friend and friend["presence"]["state"] == "online"


def test_my_profile_shows_my_last_login_time_and_address_to_me_only(anon_client, password):
    user = UserFactory()
    response = anon_client.post(
        reverse("accounts:get-token"),
        {"username": user.username, "password": password},
        REMOTE_ADDR="10.1.2.3",
    )
    token = response.json()["token"]
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = anon_client.get(reverse("accounts-v1:me")).json()["data"]
    assert me["last_login_ip"] == "10.1.2.3" and me["last_login"] is not None
    # Nobody else's view of this user carries it.
    other = UserFactory()
    from conftest import client_for

    search = client_for(other).get(reverse("accounts:user-search"), {"q": user.username}).json()
    assert "10.1.2.3" not in str(search)
