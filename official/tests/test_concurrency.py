"""WeChat's retries reaching several workers at once: real threads, each with its own database
connection, on MariaDB (the unique key makes the duplicate wait for the first and fail)."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from official.models import Follower, InboundMessage, InboxThread, TopicPost
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, openid


def run_concurrently(worker, count):
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = worker(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_simultaneous_copies_of_one_message_have_one_effect_and_one_answer(official_account):
    BoundFollowerFactory(openid=openid(1))
    body = wx.text(openid(1), "#球赛#周六下午见", msg_id=424242)
    sides = [wx.WeChatSide(Client()) for _ in range(4)]
    responses = run_concurrently(lambda i: sides[i].post(body), 4)
    assert all(getattr(r, "status_code", None) == 200 for r in responses), responses
    answers = {sides[0].reply(r) for r in responses}
    assert len(answers) == 1 and "已发表到" in answers.pop()
    assert InboundMessage.objects.count() == 1
    assert TopicPost.objects.count() == 1


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_simultaneous_subscribes_and_their_retries(official_account):
    at = int(time.time())
    bodies = [wx.event(openid(n), "subscribe", at=at) for n in range(10)] * 3
    responses = run_concurrently(lambda i: wx.WeChatSide(Client()).post(bodies[i]), len(bodies))
    assert all(getattr(r, "status_code", None) == 200 for r in responses), responses
    assert Follower.objects.filter(subscribed=True).count() == 10
    assert InboundMessage.objects.count() == 10


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_messages_open_one_thread(official_account):
    bodies = [wx.text(openid(7), f"第{n}个问题") for n in range(6)]
    responses = run_concurrently(lambda i: wx.WeChatSide(Client()).post(bodies[i]), 6)
    assert all(getattr(r, "status_code", None) == 200 for r in responses), responses
    thread = InboxThread.objects.get()
    assert thread.unread == 6
    acknowledged = [r for r in responses if r.content != b"success"]
    assert len(acknowledged) == 1  # one "转人工" acknowledgement, not six


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_simultaneous_messages_of_one_follower_never_deadlock(official_account):
    """Commands (answered at once), their retries, and messages for the inbox of one existing
    follower, all at once: every delivery answered, each message recorded once."""
    follower = BoundFollowerFactory(openid=openid(8))
    at = int(time.time())
    commands = [wx.text(openid(8), "帮助", msg_id=515150 + n, at=at + n) for n in range(4)]
    retries = [wx.text(openid(8), "帮助", msg_id=515150, at=at)] * 3
    questions = [wx.text(openid(8), f"请问第{n}件事", msg_id=525250 + n, at=at + n) for n in range(4)]
    bodies = commands + retries + questions
    responses = run_concurrently(lambda i: wx.WeChatSide(Client()).post(bodies[i]), len(bodies))
    assert all(getattr(r, "status_code", None) == 200 for r in responses), responses
    assert InboundMessage.objects.filter(follower=follower).count() == 8
    replies = {r.content for r in responses[:1] + responses[4:7]}
    assert (
        len(replies) == 1 and b"\xe5\x8f\xaf\xe7\x94\xa8\xe6\x8c\x87\xe4\xbb\xa4" in replies.pop()
    )  # 可用指令
    follower.refresh_from_db()
    assert follower.last_message_at.timestamp() == at + 3
    assert InboxThread.objects.get(follower=follower).unread == 4
