"""Concurrency on MariaDB with real threads, each with its own connection: the pair created once,
unread counters exact under concurrent sends and reads, client_id idempotency under concurrent
resends, and many concurrent sends into one group stored once each, in one order."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from accounts.tests.factories import DepartmentFactory, UserFactory
from conversations import services
from conversations.models import Conversation, ConversationMember, ConversationMessage

from .factories import direct, group

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


def run_concurrently(worker, count):
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=20)
            results[i] = worker(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_both_sides_starting_at_once_make_one_conversation(make_client):
    department = DepartmentFactory()
    a, b = UserFactory(department=department), UserFactory(department=department)
    clients = [make_client(a), make_client(b)] * 4
    targets = [b, a] * 4

    def start(i):
        return clients[i].post(
            reverse("conversations:conversation-direct"), {"user_id": targets[i].pk}, format="json"
        )

    responses = run_concurrently(start, len(clients))
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses).count(201) == 1
    assert {r.json()["data"]["id"] for r in responses} == {Conversation.objects.get().pk}
    assert ConversationMember.objects.count() == 2


def test_unread_counters_exact_under_concurrent_sends_and_reads():
    department = DepartmentFactory()
    senders = UserFactory.create_batch(4, department=department)
    reader = UserFactory(department=department)
    conversation = group(senders[0], [*senders[1:], reader])
    per_sender = 10

    def work(i):
        if i < len(senders):
            for n in range(per_sender):
                outgoing = services.message_prepare(message_type="text", text=f"{i}-{n}")
                services.message_send(conversation=conversation, sender=senders[i], outgoing=outgoing)
        else:
            for _ in range(per_sender):
                services.conversation_mark_read(conversation=conversation, user=reader)
        return True

    results = run_concurrently(work, len(senders) + 2)
    assert results == [True] * (len(senders) + 2), results
    member = ConversationMember.objects.get(conversation=conversation, user=reader)
    others_after = ConversationMessage.objects.filter(
        conversation=conversation, seq__gt=member.last_read_seq
    ).count()
    assert member.unread_count == others_after
    for sender in senders:
        row = ConversationMember.objects.get(conversation=conversation, user=sender)
        assert row.unread_count == (
            ConversationMessage.objects.filter(conversation=conversation, seq__gt=row.last_read_seq)
            .exclude(sender=sender)
            .count()
        )
    assert ConversationMessage.objects.filter(conversation=conversation).count() == len(senders) * per_sender


def test_concurrent_resends_with_one_client_id_store_one_message(make_client):
    department = DepartmentFactory()
    a, b = UserFactory(department=department), UserFactory(department=department)
    conversation = direct(a, b)
    clients = [make_client(a) for _ in range(6)]
    path = reverse("conversations:message-list", kwargs={"conversation_id": conversation.pk})

    def resend(i):
        return clients[i].post(path, {"message": "网络不好", "client_id": "c-1"}, format="json")

    responses = run_concurrently(resend, len(clients))
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert {r.json()["data"]["id"] for r in responses} == {ConversationMessage.objects.get().pk}
    assert ConversationMember.objects.get(conversation=conversation, user=b).unread_count == 1


def test_many_concurrent_sends_into_one_group_are_stored_once_in_one_order():
    members = UserFactory.create_batch(10)
    conversation = group(members[0], members[1:])
    threads, per_thread = 10, 10

    def work(i):
        for n in range(per_thread):
            outgoing = services.message_prepare(message_type="text", text=f"{i}-{n}")
            services.message_send(
                conversation=conversation, sender=members[i], outgoing=outgoing, client_id=f"{i}-{n}"
            )
        return True

    assert run_concurrently(work, threads) == [True] * threads
    seqs = list(
        ConversationMessage.objects.filter(conversation=conversation)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, threads * per_thread + 1))
    texts = ConversationMessage.objects.filter(conversation=conversation).values_list("text", flat=True)
    assert len(set(texts)) == threads * per_thread
    conversation.refresh_from_db()
    assert conversation.last_seq == threads * per_thread
    # Each member's counter: everyone else's messages after their own last send (sending reads).
    for member in ConversationMember.objects.filter(conversation=conversation):
        assert member.unread_count == (
            ConversationMessage.objects.filter(conversation=conversation, seq__gt=member.last_read_seq)
            .exclude(sender_id=member.user_id)
            .count()
        )
