"""The hot list (热度排行, issue 20 item 6): the messages I can see of the window, ranked by reads;
bounded ``days``; constant queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging import hot
from messaging.models import MessageRecipient
from messaging.tests.envelope import assert_error
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

HOT = reverse("messaging:message-hot")


def ids(response):
    body = response.json()
    assert response.status_code == 200, body
    return [m["id"] for m in body["data"]["messages"]]


@pytest.fixture
def student(db):
    return UserFactory(kind="student")


def with_reads(message, n, *, days_ago=0):
    when = timezone.now() - timedelta(days=days_ago)
    for _ in range(n):
        MessageRecipientFactory(message=message, read_at=when)


def test_ranked_by_reads_in_the_window(bearer, student):
    quiet = MessageFactory(title="冷门")
    MessageRecipientFactory(message=quiet, recipient=student)
    busy = MessageFactory(title="热门")
    MessageRecipientFactory(message=busy, recipient=student)
    with_reads(busy, 5)
    everyone = GlobalMessageFactory(title="全校通知")
    with_reads(everyone, 3)
    with_reads(quiet, 9, days_ago=20)  # read long ago: not in the window
    body = bearer(student).get(HOT, {"days": 7}).json()["data"]["messages"]
    assert [m["id"] for m in body] == [busy.pk, everyone.pk, quiet.pk]
    assert [m["reads_in_window"] for m in body] == [5, 3, 0]
    assert body[0]["heat"] == 5 and body[0]["is_read"] is False


def test_only_my_messages_of_the_window(bearer, student):
    mine = MessageFactory()
    MessageRecipientFactory(message=mine, recipient=student)
    old = MessageFactory(published_at=timezone.now() - timedelta(days=10))
    MessageRecipientFactory(message=old, recipient=student)
    not_mine = MessageFactory()
    with_reads(not_mine, 10)
    withdrawn = GlobalMessageFactory(is_active=False)
    with_reads(withdrawn, 10)
    client = bearer(student)
    assert ids(client.get(HOT)) == [mine.pk]  # default 7 days
    assert set(ids(client.get(HOT, {"days": 30}))) == {mine.pk, old.pk}


@pytest.mark.parametrize("days", ["0", "-1", "91", "100000000000000000000", "abc", "7.5"])
def test_absurd_windows_are_a_400(bearer, student, days):
    body = assert_error(bearer(student).get(HOT, {"days": days}), 400)
    assert "days" in body["message"] or "days" in str(body["data"])


def test_hot_list_takes_constant_queries(bearer, student, django_assert_num_queries):
    client = bearer(student)
    m = MessageFactory()
    MessageRecipientFactory(message=m, recipient=student)
    # token, window ids, count, page (state, personal text, reads), attachments
    with django_assert_num_queries(5):
        assert len(ids(client.get(HOT))) == 1
    for n in range(5):
        m = MessageFactory()
        MessageRecipientFactory(message=m, recipient=student)
        with_reads(m, n)
        GlobalMessageFactory()
    with django_assert_num_queries(5):
        assert len(ids(client.get(HOT, {"page_size": 20}))) == 11


def test_counters_are_used_when_the_columns_exist(monkeypatch, student):
    """Comments and votes (items 3 and 5) add to the heat once the message has those counters."""
    monkeypatch.setattr(hot, "OPTIONAL_COUNTERS", {"audience_size": 100})
    small = MessageFactory(audience_size=0)
    big = MessageFactory(audience_size=1)
    for m in (small, big):
        MessageRecipientFactory(message=m, recipient=student)
    with_reads(small, 3)
    ranked = list(hot.message_hot_list(user=student, days=7))
    assert [m.pk for m in ranked] == [big.pk, small.pk]
    assert MessageRecipient.objects.filter(message=small, read_at__isnull=False).count() == 3
