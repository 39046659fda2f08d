"""New-message pushes through the delivery rules (coalesced per burst), and the events long-poll."""

import threading
import time

import pytest
from django.urls import reverse

from conversations import realtime
from messaging.models import PushDelivery

from .factories import direct, group, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_push(settings):
    settings.MESSAGING_PUSH_CHANNELS = ["email"]


def test_offline_member_gets_one_push_per_burst_until_read(email_push, make_client, teacher, colleague):
    colleague.email = "li@example.com"
    colleague.save()
    conversation = direct(teacher, colleague)
    for text in ("一", "二", "三"):
        send(conversation, teacher, text)
    pushes = PushDelivery.objects.filter(recipient=colleague)
    assert pushes.count() == 1
    assert "/m/conversations/" in pushes.get().url
    make_client(colleague).post(
        reverse("conversations:conversation-read", kwargs={"conversation_id": conversation.pk})
    )
    send(conversation, teacher, "四")
    assert pushes.count() == 2


def test_online_member_is_not_pushed(email_push, teacher, colleague):
    colleague.email = "li@example.com"
    colleague.save()
    realtime.presence_ping(colleague.pk)
    send(direct(teacher, colleague), teacher, "在线")
    assert not PushDelivery.objects.filter(recipient=colleague).exists()


def test_the_sender_is_never_pushed(email_push, teacher, colleague):
    teacher.email = "wang@example.com"
    teacher.save()
    send(group(teacher, [colleague]), teacher, "x")
    assert not PushDelivery.objects.filter(recipient=teacher).exists()


def test_events_answer_at_once_without_long_poll(
    settings, make_client, teacher, colleague, django_capture_on_commit_callbacks
):
    settings.CONVERSATIONS_LONGPOLL_SECONDS = 0
    client = make_client(colleague)
    path = reverse("conversations:conversation-events")
    first = client.get(path).json()["data"]
    assert first["changed"] is False and first["wait_seconds"] == 0
    with django_capture_on_commit_callbacks(execute=True):  # the counter moves after the commit
        send(direct(teacher, colleague), teacher, "新消息")
    later = client.get(path, {"since": first["seq"]}).json()["data"]
    assert later["changed"] is True and later["seq"] > first["seq"] and later["unread_count"] == 1
    assert client.get(path, {"since": "x"}).status_code == 400


def test_events_long_poll_returns_early_on_a_new_message(settings, make_client, teacher, colleague):
    settings.CONVERSATIONS_LONGPOLL_SECONDS = 5
    conversation = direct(teacher, colleague)
    client = make_client(colleague)
    path = reverse("conversations:conversation-events")
    since = client.get(path, {"wait": 0}).json()["data"]["seq"]
    timer = threading.Timer(0.5, realtime.events_bump, args=([colleague.pk],))
    started = time.monotonic()
    timer.start()
    data = client.get(path, {"since": since}).json()["data"]
    timer.join()
    assert data["changed"] is True and time.monotonic() - started < 4
    started = time.monotonic()
    data = client.get(path, {"since": data["seq"], "wait": 1}).json()["data"]
    assert data["changed"] is False and 0.9 < time.monotonic() - started < 4
    assert conversation.pk
