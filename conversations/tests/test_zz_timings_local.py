"""Local timing measurements (not committed)."""

import statistics
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DepartmentFactory, UserFactory
from conversations.models import Conversation, ConversationKind, ConversationMember, ConversationMessage

pytestmark = pytest.mark.django_db


def timed(fn, n=50):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), sorted(samples)[int(n * 0.95) - 1]


def test_timings(settings, make_client):
    settings.TOKEN_CACHE_SECONDS = 60
    dept = DepartmentFactory()
    me = UserFactory(department=dept)
    others = UserFactory.create_batch(500, department=dept)
    now = timezone.now()
    convs = Conversation.objects.bulk_create(
        [
            Conversation(
                kind=ConversationKind.DIRECT, pair_key=Conversation.pair_key_for(me.pk, o.pk), member_count=2
            )
            for o in others
        ]
    )
    members = []
    for c, o in zip(convs, others, strict=True):
        members += [
            ConversationMember(conversation=c, user=me, last_activity_at=now, unread_count=1),
            ConversationMember(conversation=c, user=o, last_activity_at=now),
        ]
    ConversationMember.objects.bulk_create(members)
    msgs = ConversationMessage.objects.bulk_create(
        [
            ConversationMessage(conversation=c, seq=1, sender=o, message_type="text", text="你好")
            for c, o in zip(convs, others, strict=True)
        ]
    )
    for c, m in zip(convs, msgs, strict=True):
        c.last_message = m
        c.last_seq = 1
        c.last_message_at = now
    Conversation.objects.bulk_update(convs, ["last_message", "last_seq", "last_message_at"])
    client = make_client(me)
    client.post(reverse("conversations:presence-ping"))
    print("\nping p50/p95 ms", timed(lambda: client.post(reverse("conversations:presence-ping"))))
    print("unread p50/p95 ms", timed(lambda: client.get(reverse("conversations:conversation-unread"))))
    print(
        "list(20 of 500) p50/p95 ms",
        timed(lambda: client.get(reverse("conversations:conversation-list")), n=30),
    )
    path = reverse("conversations:message-list", kwargs={"conversation_id": convs[0].pk})
    print("send text p50/p95 ms", timed(lambda: client.post(path, {"message": "测试"}, format="json")))
    print("history p50/p95 ms", timed(lambda: client.get(path), n=30))
