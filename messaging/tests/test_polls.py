"""Polls (issue 20 item 5): created with the message through the API, validated, voted on through
``/api/v1/messages/{id}/poll/vote``, results on every message shape, who voted what for the sender,
constant query counts for the message lists that carry polls."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging import polls
from messaging.models import Poll, PollOption, PollVote
from messaging.tests.conftest import grant
from messaging.tests.envelope import assert_error
from messaging.tests.factories import MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("messaging:admin-message-list")
POLL = {"question": "班会时间选哪天？", "options": ["周四", "周五", "周六"]}


def vote_url(message):
    return reverse("messaging:message-poll-vote", args=[message.pk])


def votes_url(message):
    return reverse("messaging:message-poll-votes", args=[message.pk])


def with_poll(*recipients, sender=None, **poll):
    message = MessageFactory(sender=sender or UserFactory(kind="teacher"))
    for user in recipients:
        MessageRecipientFactory(message=message, recipient=user)
    polls.poll_create(message=message, **{**POLL, **poll})
    return message


def options(message):
    return list(
        PollOption.objects.filter(poll__message=message).order_by("position").values_list("pk", flat=True)
    )


@pytest.fixture
def sender(db):
    return grant(UserFactory(kind="teacher"), "send")


# --- Creating -------------------------------------------------------------------------------------


def test_a_poll_is_created_with_the_message(bearer, sender):
    student = UserFactory()
    closes = (timezone.now() + timedelta(days=2)).isoformat()
    response = bearer(sender).post(
        CREATE,
        {
            "title": "班会",
            "type": "notification",
            "priority": "normal",
            "recipient_ids": [student.pk],
            "comments_open": False,
            "poll": {**POLL, "multiple": True, "max_choices": 2, "anonymous": True, "closes_at": closes},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["comments_open"] is False and data["comment_count"] == 0
    poll = data["poll"]
    assert poll["question"] == "班会时间选哪天？" and poll["multiple"] and poll["max_choices"] == 2
    assert poll["anonymous"] and poll["allow_change"] and not poll["is_closed"]
    assert [o["text"] for o in poll["options"]] == ["周四", "周五", "周六"]
    assert poll["voter_count"] == 0 and poll["my_option_ids"] == [] and poll["can_vote"]


def test_messages_without_a_poll_say_null(bearer, sender):
    response = bearer(sender).post(
        CREATE,
        {"title": "通知", "type": "notification", "priority": "normal", "recipient_ids": [UserFactory().pk]},
        format="json",
    )
    assert response.json()["data"]["poll"] is None and response.json()["data"]["comments_open"] is True


@pytest.mark.parametrize(
    ("poll", "text"),
    [
        ({"options": ["只有一个"]}, "至少"),
        ({"options": [f"选项{i}" for i in range(21)]}, "最多"),
        ({"options": ["甲", "甲"]}, "重复"),
        ({"options": ["甲", "  "]}, "不能为空"),
        ({"question": ""}, "poll"),
        ({"multiple": True, "max_choices": 4}, "2 到选项数"),
        ({"multiple": True, "max_choices": 1}, "2 到选项数"),
        ({"multiple": False, "max_choices": 2}, "单选"),
        ({"closes_at": "2020-01-01T00:00:00+08:00"}, "晚于现在"),
        ({"closes_at": "not a date"}, "poll"),
        ({"options": ["长" * 101, "乙"]}, "poll"),
        ({"max_choices": 10**12}, "poll"),
    ],
)
def test_bad_polls_are_400s_in_chinese_and_send_nothing(bearer, sender, poll, text):
    from messaging.models import Message

    response = bearer(sender).post(
        CREATE,
        {
            "title": "班会",
            "type": "notification",
            "priority": "normal",
            "recipient_ids": [UserFactory().pk],
            "poll": {**POLL, **poll},
        },
        format="json",
    )
    body = assert_error(response, 400)
    assert "poll" in body["data"], body
    assert text in str(body), body
    assert not Message.objects.filter(title="班会").exists() and not Poll.objects.exists()


# --- Voting ---------------------------------------------------------------------------------------


def test_a_vote_is_counted_and_shown_on_the_message(bearer):
    voter, other = UserFactory(), UserFactory()
    message = with_poll(voter, other)
    first, second, _third = options(message)
    response = bearer(voter).post(vote_url(message), {"option_ids": [second]}, format="json")
    assert response.status_code == 200, response.json()
    poll = response.json()["data"]
    assert poll["voter_count"] == 1 and poll["my_option_ids"] == [second] and poll["has_voted"]
    assert [(o["vote_count"], o["percentage"], o["chosen"]) for o in poll["options"]] == [
        (0, 0.0, False),
        (1, 100.0, True),
        (0, 0.0, False),
    ]
    bearer(other).post(vote_url(message), {"option_ids": [first]}, format="json")
    detail = bearer(voter).get(reverse("messaging:message-detail", args=[message.pk])).json()["data"]["poll"]
    assert [o["percentage"] for o in detail["options"]] == [50.0, 50.0, 0.0]
    assert detail["my_option_ids"] == [second]
    listed = bearer(other).get(reverse("messaging:message-list")).json()["data"]["messages"][0]["poll"]
    assert listed["my_option_ids"] == [first]


def test_a_vote_can_be_changed_until_the_poll_closes(bearer):
    voter = UserFactory()
    message = with_poll(voter, multiple=True, max_choices=2)
    first, second, third = options(message)
    client = bearer(voter)
    client.post(vote_url(message), {"option_ids": [first, second]}, format="json")
    poll = client.post(vote_url(message), {"option_ids": [second, third]}, format="json").json()["data"]
    assert poll["voter_count"] == 1
    assert [o["vote_count"] for o in poll["options"]] == [0, 1, 1]
    assert PollVote.objects.count() == 1
    Poll.objects.update(closes_at=timezone.now() - timedelta(minutes=1))
    assert_error(client.post(vote_url(message), {"option_ids": [first]}, format="json"), 400, "poll_closed")
    shown = client.get(reverse("messaging:message-detail", args=[message.pk])).json()["data"]["poll"]
    assert shown["is_closed"] and not shown["can_vote"] and shown["my_option_ids"] == [second, third]


def test_a_closed_poll_refuses_a_first_vote(bearer):
    voter = UserFactory()
    message = with_poll(voter)
    Poll.objects.update(closes_at=timezone.now() - timedelta(seconds=1))
    assert_error(
        bearer(voter).post(vote_url(message), {"option_ids": options(message)[:1]}, format="json"), 400
    )


def test_a_forbidden_change_is_a_400(bearer):
    voter = UserFactory()
    message = with_poll(voter, allow_change=False)
    first, second, _ = options(message)
    client = bearer(voter)
    assert client.post(vote_url(message), {"option_ids": [first]}, format="json").status_code == 200
    body = assert_error(
        client.post(vote_url(message), {"option_ids": [second]}, format="json"),
        400,
        "vote_change_not_allowed",
    )
    assert "不允许修改" in body["message"]
    assert [o.vote_count for o in PollOption.objects.order_by("position")] == [1, 0, 0]


@pytest.mark.parametrize(
    ("choice", "code"),
    [
        (lambda ids, other: [ids[0], ids[1]], "invalid_vote"),  # single choice
        (lambda ids, other: [other[0]], "invalid_vote"),  # another poll's option
        (lambda ids, other: [], None),
        (lambda ids, other: [2**64], None),
        (lambda ids, other: "1", None),
    ],
)
def test_bad_votes_are_400s(bearer, choice, code):
    voter = UserFactory()
    message = with_poll(voter)
    other = with_poll(voter)
    body = assert_error(
        bearer(voter).post(
            vote_url(message), {"option_ids": choice(options(message), options(other))}, format="json"
        ),
        400,
        code,
    )
    assert "option_ids" in body["data"]
    assert not PollVote.objects.exists()


def test_multiple_choice_respects_its_maximum(bearer):
    voter = UserFactory()
    message = with_poll(voter, multiple=True, max_choices=2)
    body = assert_error(
        bearer(voter).post(vote_url(message), {"option_ids": options(message)}, format="json"), 400
    )
    assert "最多只能选 2 项" in str(body)


def test_who_may_vote(bearer, make_client):
    recipient, stranger = UserFactory(), UserFactory()
    message = with_poll(recipient)
    ids = options(message)[:1]
    assert_error(bearer(stranger).post(vote_url(message), {"option_ids": ids}, format="json"), 404)
    # The sender did not receive it: they see it, and may not vote.
    assert_error(bearer(message.sender).post(vote_url(message), {"option_ids": ids}, format="json"), 403)
    plain = MessageFactory()
    MessageRecipientFactory(message=plain, recipient=recipient)
    assert_error(bearer(recipient).post(vote_url(plain), {"option_ids": ids}, format="json"), 404, "no_poll")


# --- Who voted what ---------------------------------------------------------------------------------


def test_the_sender_sees_who_voted_what(bearer):
    voter, other = UserFactory(), UserFactory()
    message = with_poll(voter, other)
    first, second, _ = options(message)
    bearer(voter).post(vote_url(message), {"option_ids": [second]}, format="json")
    response = bearer(message.sender).get(votes_url(message))
    assert response.status_code == 200
    [row] = response.json()["data"]["votes"]
    assert row["voter"]["id"] == voter.pk and row["option_ids"] == [second] and row["options"] == ["周五"]
    staff = grant(UserFactory(is_staff=True, kind="staff"), "view_message")
    assert bearer(staff).get(votes_url(message)).status_code == 200
    assert_error(bearer(other).get(votes_url(message)), 403, "not_the_sender_or_staff")
    assert_error(bearer(UserFactory()).get(votes_url(message)), 404)


def test_an_anonymous_polls_voters_stay_secret(bearer):
    voter = UserFactory()
    message = with_poll(voter, anonymous=True)
    bearer(voter).post(vote_url(message), {"option_ids": options(message)[:1]}, format="json")
    assert_error(bearer(message.sender).get(votes_url(message)), 403, "poll_anonymous")


# --- Query counts -----------------------------------------------------------------------------------


def _inbox_with_polls(user, n):
    for _ in range(n):
        message = with_poll(user)
        PollVote.objects.create(poll=message.poll, voter=user).options.set(options(message)[:1])


def test_the_inbox_with_polls_takes_a_constant_number_of_queries(bearer, django_assert_num_queries):
    user = UserFactory()
    client = bearer(user)
    _inbox_with_polls(user, 1)
    # token, count, page ids, page rows (with sender, my state, poll), attachments, options, my votes,
    # their options
    with django_assert_num_queries(8):
        assert len(client.get(reverse("messaging:message-list")).json()["data"]["messages"]) == 1
    _inbox_with_polls(user, 6)
    with django_assert_num_queries(8):
        page = client.get(reverse("messaging:message-list")).json()["data"]["messages"]
    assert len(page) == 7 and all(m["poll"]["has_voted"] for m in page)


def test_the_senders_list_with_polls_and_comments_takes_a_constant_number_of_queries(
    bearer, sender, django_assert_num_queries
):
    from messaging import comments

    client = bearer(sender)

    def add(n):
        for _ in range(n):
            reader = UserFactory()
            message = with_poll(reader, sender=sender)
            message.is_moderator = False
            comments.comment_create(message=message, user=reader, body="收到")

    add(1)
    # token, perms, count, page (with poll), attachments, options, my votes (none: no 2nd)
    with django_assert_num_queries(8):
        data = client.get(CREATE).json()["data"]["messages"]
    assert data[0]["comment_count"] == 1 and data[0]["poll"]["voter_count"] == 0
    add(5)
    with django_assert_num_queries(8):
        assert len(client.get(CREATE).json()["data"]["messages"]) == 6


def test_votes_and_comments_heat_the_hot_list(bearer):
    from messaging import comments

    reader = UserFactory()
    quiet = MessageFactory(title="安静的消息")
    MessageRecipientFactory(message=quiet, recipient=reader)
    voted = with_poll(reader, *UserFactory.create_batch(2))
    for user in [reader, *[r.recipient for r in voted.recipients.exclude(recipient=reader)]]:
        polls.poll_vote(message=voted, user=user, option_ids=options(voted)[:1])
    assert voted.__class__.objects.get(pk=voted.pk).vote_count == 3
    voted.is_moderator = False
    comments.comment_create(message=voted, user=reader, body="收到")
    hot = bearer(reader).get(reverse("messaging:message-hot"), {"days": 7}).json()["data"]["messages"]
    assert [m["id"] for m in hot][:2] == [voted.pk, quiet.pk]
