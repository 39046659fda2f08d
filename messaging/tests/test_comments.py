"""Comments and private questions (issue 20 item 3) through ``/api/v1/messages/{id}/comments``:
who sees what (asker, sender, another recipient, a stranger, message-center staff), hidden
comments, the reply rules, the coalesced notice to the sender, limits and query counts."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging import comments, services
from messaging.models import Message, MessageComment, PushDelivery
from messaging.tests.conftest import grant
from messaging.tests.envelope import assert_error
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db


def url(message, *rest):
    return reverse("messaging:message-comments", args=[message.pk]) if not rest else rest[0]


def hide_url(message, comment):
    return reverse("messaging:message-comment-hide", args=[message.pk, comment["id"]])


def unhide_url(message, comment):
    return reverse("messaging:message-comment-unhide", args=[message.pk, comment["id"]])


@pytest.fixture
def world(db, make_client):
    """A teacher's message to two students; a stranger; message-center staff."""
    teacher = UserFactory(kind="teacher", email="teacher@example.edu")
    asker, other = UserFactory(kind="student"), UserFactory(kind="student")
    message = MessageFactory(sender=teacher, title="周五班会")
    for student in (asker, other):
        MessageRecipientFactory(message=message, recipient=student)
    staff = grant(UserFactory(is_staff=True, kind="staff"), "view_message")
    stranger = UserFactory(kind="student")
    clients = {
        name: make_client(user, keyword="Bearer")
        for name, user in {
            "teacher": teacher,
            "asker": asker,
            "other": other,
            "staff": staff,
            "stranger": stranger,
        }.items()
    }
    return {
        "message": message,
        "teacher": teacher,
        "asker": asker,
        "other": other,
        "staff": staff,
        "c": clients,
    }


def post(client, message, **data):
    return client.post(url(message), data, format="json")


def bodies(response):
    assert response.status_code == 200, response.json()
    return [c["body"] for c in response.json()["data"]["comments"]]


def test_public_comments_are_seen_by_everyone_who_sees_the_message(world):
    c, message = world["c"], world["message"]
    response = post(c["asker"], message, body="几点开始？")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "评论成功"
    assert body["data"]["private"] is False and body["data"]["author"]["id"] == world["asker"].pk
    for name in ("asker", "other", "teacher", "staff"):
        assert bodies(c[name].get(url(message))) == ["几点开始？"], name
    assert_error(c["stranger"].get(url(message)), 404)
    assert_error(post(c["stranger"], message, body="我也来"), 404)
    assert Message.objects.get(pk=message.pk).comment_count == 1


def test_private_questions_are_seen_by_the_asker_the_sender_and_staff_only(world):
    c, message = world["c"], world["message"]
    response = post(c["asker"], message, body="我那天请假可以吗？", private=True)
    assert response.status_code == 201 and response.json()["message"] == "提问成功"
    assert bodies(c["asker"].get(url(message))) == ["我那天请假可以吗？"]
    assert bodies(c["teacher"].get(url(message))) == ["我那天请假可以吗？"]
    assert bodies(c["staff"].get(url(message))) == ["我那天请假可以吗？"]
    assert bodies(c["other"].get(url(message))) == []
    assert_error(c["stranger"].get(url(message)), 404)
    # Private questions are not counted on the message.
    assert Message.objects.get(pk=message.pk).comment_count == 0
    assert (
        c["asker"].get(reverse("messaging:message-detail", args=[message.pk])).json()["data"]["comment_count"]
        == 0
    )


def test_the_sender_answers_privately_and_the_asker_sees_the_answer(world):
    c, message = world["c"], world["message"]
    question = post(c["asker"], message, body="我那天请假可以吗？", private=True).json()["data"]
    answer = post(c["teacher"], message, body="可以，请提前说。", reply_to=question["id"])
    assert answer.status_code == 201 and answer.json()["message"] == "回答成功"
    assert answer.json()["data"]["private"] is True and answer.json()["data"]["reply_to"] == question["id"]
    [thread] = c["asker"].get(url(message)).json()["data"]["comments"]
    assert thread["is_answered"] is True
    assert [r["body"] for r in thread["replies"]] == ["可以，请提前说。"]
    assert bodies(c["other"].get(url(message))) == []
    # Staff answer too; a reply to an answer hangs on the question.
    second = post(c["staff"], message, body="补充：找班长登记。", reply_to=answer.json()["data"]["id"])
    assert second.json()["data"]["reply_to"] == question["id"]
    [thread] = c["teacher"].get(url(message)).json()["data"]["comments"]
    assert [r["body"] for r in thread["replies"]] == ["可以，请提前说。", "补充：找班长登记。"]


def test_only_the_sender_or_staff_reply(world):
    c, message = world["c"], world["message"]
    comment = post(c["asker"], message, body="几点开始？").json()["data"]
    assert_error(post(c["other"], message, body="七点", reply_to=comment["id"]), 403, "reply_not_allowed")
    # A comment of another message, or none, is a 400 under reply_to.
    elsewhere = MessageFactory(sender=world["teacher"])
    MessageRecipientFactory(message=elsewhere, recipient=world["asker"])
    foreign = post(c["asker"], elsewhere, body="别处的评论").json()["data"]
    body = assert_error(
        post(c["teacher"], message, body="回复", reply_to=foreign["id"]), 400, "reply_not_allowed"
    )
    assert "reply_to" in body["data"]
    assert_error(post(c["teacher"], message, body="回复", reply_to=999999), 400)


def test_hidden_comments_disappear_for_others_and_stay_for_audit(world):
    c, message = world["c"], world["message"]
    comment = post(c["other"], message, body="广告广告").json()["data"]
    post(c["asker"], message, body="收到")
    assert_error(c["asker"].post(hide_url(message, comment)), 403, "moderation_not_allowed")
    assert_error(c["stranger"].post(hide_url(message, comment)), 404)
    response = c["teacher"].post(hide_url(message, comment))
    assert response.status_code == 200 and response.json()["data"]["is_hidden"] is True
    assert c["teacher"].post(hide_url(message, comment)).status_code == 200  # twice is harmless
    assert bodies(c["asker"].get(url(message))) == ["收到"]
    assert bodies(c["other"].get(url(message))) == ["收到"]  # the author too
    moderator_view = c["staff"].get(url(message)).json()["data"]["comments"]
    assert [(x["body"], x["is_hidden"]) for x in moderator_view] == [("收到", False), ("广告广告", True)]
    assert MessageComment.objects.get(pk=comment["id"]).hidden_by == world["teacher"]
    assert Message.objects.get(pk=message.pk).comment_count == 1
    assert_error(post(c["teacher"], message, body="回复", reply_to=comment["id"]), 400, "reply_not_allowed")
    assert c["staff"].post(unhide_url(message, comment)).json()["data"]["is_hidden"] is False
    assert bodies(c["asker"].get(url(message))) == ["收到", "广告广告"]
    assert Message.objects.get(pk=message.pk).comment_count == 2


def test_closed_comments_refuse_new_threads_but_the_sender_still_answers(world):
    c, message = world["c"], world["message"]
    question = post(c["asker"], message, body="请问地点？", private=True).json()["data"]
    services.message_update(message=message, data={"comments_open": False})
    assert_error(post(c["other"], message, body="我也想问"), 400, "comments_closed")
    assert_error(post(c["asker"], message, body="再问", private=True), 400, "comments_closed")
    assert post(c["teacher"], message, body="勤学楼 101", reply_to=question["id"]).status_code == 201


def test_system_messages_are_closed_and_composed_ones_open_by_default(world):
    system = services.message_send(sender=None, title="预约提醒", recipient_ids=[world["asker"].pk])
    assert system.comments_open is False
    assert_error(post(world["c"]["asker"], system, body="好的"), 400, "comments_closed")
    composed = services.message_create(sender=world["staff"], title="通知", recipient_ids=[world["asker"].pk])
    assert composed.comments_open is True


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "长" * 1001}, "body"),
        ({}, "body"),
        ({"body": "好", "reply_to": 2**64}, "reply_to"),
        ({"body": "好", "private": "maybe"}, "private"),
    ],
)
def test_bad_comments_are_400s_naming_the_field(world, data, field):
    body = assert_error(post(world["c"]["asker"], world["message"], **data), 400)
    assert field in body["data"], body
    assert all("\u4e00" <= ch <= "\u9fff" for ch in body["message"][:1]) or body["message"]


def test_a_global_message_takes_comments_from_anyone(world, make_client):
    message = GlobalMessageFactory(sender=world["teacher"])
    reader = make_client(UserFactory(), keyword="Bearer")
    assert post(reader, message, body="收到").status_code == 201
    assert bodies(world["c"]["stranger"].get(url(message))) == ["收到"]


def test_the_sender_cannot_ask_themselves(world):
    assert_error(
        post(world["c"]["teacher"], world["message"], body="?", private=True), 400, "invalid_comment"
    )


def test_pagination_is_newest_first_in_the_envelope(world):
    c, message = world["c"], world["message"]
    for i in range(5):
        post(c["asker"], message, body=f"第{i}条")
    data = c["other"].get(url(message), {"page_size": 2, "page": 2}).json()["data"]
    assert [x["body"] for x in data["comments"]] == ["第2条", "第1条"]
    assert data["pagination"] == {
        "current_page": 2,
        "page_size": 2,
        "total_items": 5,
        "total_pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    only_private = c["teacher"].get(url(message), {"private": "true"}).json()["data"]["comments"]
    assert only_private == []
    assert_error(c["other"].get(url(message), {"page": "0"}), 400)


# --- The sender's notice -------------------------------------------------------------------------


@pytest.fixture
def email_channel(settings):
    settings.MESSAGING_PUSH_CHANNELS = ["email"]


def test_private_questions_notify_the_sender_once_per_message_per_hour(
    world, email_channel, django_capture_on_commit_callbacks
):
    c, message = world["c"], world["message"]
    # An hour's window starts on the hour: five past, a day from now (the message is published).
    start = (timezone.now() + dt.timedelta(days=1)).replace(minute=5, second=0, microsecond=0)
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        post(c["asker"], message, body="问题一", private=True)
        post(c["other"], message, body="问题二", private=True)
        post(c["asker"], message, body="公开评论不提醒")
    with time_machine.travel(start + dt.timedelta(minutes=50), tick=False):
        post(c["other"], message, body="问题三", private=True)
    notices = PushDelivery.objects.filter(recipient=world["teacher"])
    assert notices.count() == 1
    assert "周五班会" in notices.get().title and notices.get().url == f"/m/sent/{message.pk}/#questions"
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        post(c["asker"], message, body="问题四", private=True)
    assert notices.count() == 2
    # The other message's questions have their own notice.
    elsewhere = MessageFactory(sender=world["teacher"])
    MessageRecipientFactory(message=elsewhere, recipient=world["asker"])
    with time_machine.travel(start + dt.timedelta(hours=1, minutes=1), tick=False):
        post(c["asker"], elsewhere, body="另一个问题", private=True)
    assert notices.count() == 3


def test_the_asker_hears_of_the_answer(world, email_channel):
    world["asker"].email = "asker@example.edu"
    world["asker"].save(update_fields=["email"])
    question = post(world["c"]["asker"], world["message"], body="问题", private=True).json()["data"]
    post(world["c"]["teacher"], world["message"], body="回答", reply_to=question["id"])
    assert PushDelivery.objects.filter(recipient=world["asker"]).count() == 1


# --- Query counts ----------------------------------------------------------------------------------


def test_the_comment_page_takes_a_constant_number_of_queries(world, django_assert_num_queries):
    c, message = world["c"], world["message"]
    question = post(c["asker"], message, body="问题", private=True).json()["data"]
    post(c["teacher"], message, body="回答", reply_to=question["id"])
    # token, sender's view (miss), reader's view (+ its attachments), count, page, replies
    with django_assert_num_queries(7):
        assert len(bodies(c["asker"].get(url(message)))) == 1
    for i in range(8):
        thread = post(c["other"], message, body=f"评论{i}").json()["data"]
        post(c["teacher"], message, body=f"回答{i}", reply_to=thread["id"])
    with django_assert_num_queries(7):
        assert len(bodies(c["asker"].get(url(message)))) == 9


def test_open_questions_are_the_senders_to_do(world):
    c, message = world["c"], world["message"]
    q1 = post(c["asker"], message, body="问题一", private=True).json()["data"]
    post(c["other"], message, body="问题二", private=True)
    post(c["teacher"], message, body="回答", reply_to=q1["id"])
    assert [q.body for q in comments.open_questions(message=message)] == ["问题二"]


def test_the_sender_closes_comments_through_the_api(world):
    c, message = world["c"], world["message"]
    update = reverse("messaging:admin-message-detail", args=[message.pk])
    teacher = world["teacher"]
    grant(teacher, "send")
    response = c["teacher"].put(update, {"comments_open": False}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["comments_open"] is False
    assert_error(post(c["asker"], message, body="还能评论吗？"), 400, "comments_closed")
    assert_error(c["teacher"].put(update, {"comments_open": "maybe"}, format="json"), 400)
