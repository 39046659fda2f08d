"""Keeps ``bench/`` honest without running any load: its builders at a tiny scale, the requests
its scenarios would send, and its in-process checks."""

import json
import random
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User, UserKind
from activities.models import Activity, ClockinRecord
from bench import checks, data, scenarios
from bench.__main__ import render_checks, render_table
from messaging.models import Message, MessageRecipient
from reservations.models import Reservation

SCALE = {
    "users": 60,
    "message_recipients": 6000,
    "rooms": 3,
    "bookings": 30,
    "activities": 4,
    "conversation_messages": 3000,
}


@pytest.fixture(scope="module")
def built_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """The tiny data set, built once for the module (each test's own writes are rolled back)."""
    from django.conf import settings
    from django.core.management import call_command

    media, settings.MEDIA_ROOT = settings.MEDIA_ROOT, tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock():
        for builder in data.BUILDERS:
            builder(SCALE, random.Random(1))
        tokens = data.tokens(40)
    settings.MEDIA_ROOT = media
    yield tokens
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def built(built_once, db):
    return built_once


def test_builders_make_the_data_set_once(built):
    counts = data.counts()
    assert counts["users"] == 60 + 1  # and the bench's staff account
    assert counts["message_recipients"] == SCALE["message_recipients"]  # exactly the scale's rows
    assert counts["bookings"] == 30
    assert counts["activities"] == 4 + 1  # and the clock-in burst's activity
    assert counts["guides"] == data.GUIDES
    assert counts["conversation_messages"] == SCALE["conversation_messages"]
    assert Message.objects.filter(title=data.MESSAGES_DONE).exists()

    for builder in data.BUILDERS:  # a second run adds nothing
        builder(SCALE, random.Random(2))
    assert data.counts() == counts
    assert data.machine()["database"] == connection.vendor


def test_recipient_rows_follow_the_audiences(built):
    teacher = User.objects.filter(username__startswith="U", kind=UserKind.TEACHER).first()
    rows = set(MessageRecipient.objects.filter(recipient=teacher).values_list("message_id", flat=True))
    department_messages = set(
        Message.audience_departments.through.objects.filter(department_id=teacher.department_id).values_list(
            "message_id", flat=True
        )
    )
    teacher_messages = {
        m.pk for m in Message.objects.filter(is_global=False) if m.audience_kinds == [UserKind.TEACHER]
    }
    assert len(department_messages) == data.DEPARTMENT_MESSAGES
    assert len(teacher_messages) == data.TEACHER_MESSAGES
    assert department_messages | teacher_messages <= rows
    # Global messages have a row only once read; scheduled messages are unread by everyone.
    assert not MessageRecipient.objects.filter(message__is_global=True, read_at__isnull=True).exists()
    assert not MessageRecipient.objects.filter(
        message__published_at__gt=timezone.now(), read_at__isnull=False
    ).exists()


def test_the_discussion_message_and_the_poll(built):
    from bench import discussion
    from messaging.models import MessageComment, Poll

    message = Message.objects.get(pk=discussion.discussion_message_id())
    assert message.is_global and message.comments_open
    assert message.comment_count == discussion.PUBLIC_COMMENTS - discussion.HIDDEN_COMMENTS
    threads = MessageComment.objects.filter(message=message, is_answer=False)
    assert threads.filter(is_private=True).count() == min(60, discussion.PRIVATE_QUESTIONS)
    answers = MessageComment.objects.filter(message=message, is_answer=True)
    assert answers.count() == discussion.ANSWERED_QUESTIONS
    assert all(a.private_to_id == a.reply_to.private_to_id for a in answers)
    poll = Poll.objects.get(message__title=discussion.POLL_TITLE)
    assert [o.text for o in poll.options.all()] == discussion.POLL_OPTIONS and poll.voter_count == 0


def test_bookings_never_overlap_and_last_at_most_a_day(built):
    by_room = defaultdict(list)
    for room, start, end in Reservation.objects.values_list("meetingroom_id", "reserve_from", "reserve_to"):
        assert start < end <= start + timedelta(hours=24)
        by_room[room].append((start, end))
    for spans in by_room.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_activities_have_history_and_the_burst_activity_its_crowd(built):
    burst = Activity.objects.get(name=data.BURST_ACTIVITY)
    assert burst.enrollments.count() == 60  # min(5 000, users)
    assert burst.clockin_items.count() == 2
    # Records only for activities that have ended, and each for an enrollment of that activity.
    records = ClockinRecord.objects.select_related("item__activity", "enrollment")
    assert all(r.item.activity.time_end < timezone.now() for r in records)
    assert all(r.enrollment.activity_id == r.item.activity_id for r in records)


def test_every_scenario_builds_well_formed_requests(built):
    context = scenarios.Context(tokens=built, usernames=["U000001"])
    for scenario in scenarios.SCENARIOS:
        if scenario.build is None:
            assert scenario.runner is not None
            continue
        requests = scenario.build(context)
        assert requests, scenario.name
        for method, path, authorization, body in requests:
            assert method in {"GET", "POST"} and path.startswith("/")
            if path.startswith("/wechat/official/"):  # WeChat's side: signed, XML, on one line
                assert "signature=" in path and body.startswith("<xml>") and "\n" not in body
                continue
            page = path.startswith("/m/")  # the portal's pages: a browser session's cookie
            assert (
                authorization.startswith("Cookie: sessionid=" if page else "Bearer ")
                or path == "/auth/get-token/"
            )
            if body:
                json.loads(body)


def test_conversations_are_consistent_and_the_chat_user_has_500(built):
    from django.db.models import Count, Max

    from conversations.models import Conversation, ConversationMember, ConversationMessage

    chat_user = User.objects.get(username=data.CHAT_USER)
    assert ConversationMember.objects.filter(user=chat_user).count() == data.CHAT_USER_CONVERSATIONS
    # Each conversation as the services would have left it: seq 1..n, the last message recorded,
    # the member count, and each member's badge the others' messages after their read pointer.
    built_ones = Conversation.objects.exclude(name=data.CONVERSATIONS_DONE).annotate(
        n=Count("messages", distinct=True), top=Max("messages__seq"), people=Count("members", distinct=True)
    )
    assert built_ones.count() >= data.CHAT_USER_CONVERSATIONS
    for conversation in built_ones:
        assert conversation.n == conversation.top == conversation.last_seq >= 1
        assert conversation.people == conversation.member_count
        assert conversation.last_message.seq == conversation.last_seq
    for member in ConversationMember.objects.filter(user=chat_user)[:50]:
        expected = (
            ConversationMessage.objects.filter(
                conversation_id=member.conversation_id, seq__gt=member.last_read_seq
            )
            .exclude(sender=chat_user)
            .count()
        )
        assert member.unread_count == expected
    # Every bench user with a token has a conversation to write in.
    with_tokens = {pk for pk, _ in built}
    assert with_tokens <= set(ConversationMember.objects.values_list("user_id", flat=True))


def test_free_slots_are_free(built):
    slots = scenarios.free_slots(50)
    assert len(slots) == 50
    assert len(set(slots)) == 50
    for room, start in slots:
        assert not Reservation.objects.filter(
            meetingroom_id=room, reserve_from__lt=start + timedelta(hours=1), reserve_to__gt=start
        ).exists()


def test_in_process_checks_and_the_report(built):
    rows = [
        checks.global_send(runs=2),
        checks.targeted_send(recipients=20, runs=1),
        checks.clockin_filter(runs=1),
        checks.message_search(runs=1),
        checks.hot_list(runs=1),
    ]
    assert rows[1]["rows_written"] == [20]
    assert rows[2]["queries"] == 1
    assert rows[3]["queries"] == 4 and rows[4]["queries"] == 4  # search and hot list: constant
    assert sum(rows[3]["matches"].values()) > 0  # the bench's titles are indexed and found
    assert not Message.objects.filter(title__startswith="[bench]").exclude(title=data.MESSAGES_DONE).exists()
    table = render_checks(rows)
    assert table.count("\n") == 2 + len(rows) - 1
    loaded = {
        "endpoint": "x",
        "rps": 10.0,
        "ratio_to_baseline": 0.5,
        "p50_ms": 40.0,
        "p95_ms": 50.0,
        "p99_ms": 60.0,
        "p50_alone_ms": 20.0,
        "errors": 0,
        "statuses": {"200": 3},
        "queries": 2,
        "target_p50_ms": 30,
    }
    assert "< 30 ms ✓ / ✗" in render_table([loaded])
    assert "< 30 ms ✓ / ✗; p99 < 200 ms ✓" in render_table([{**loaded, "target_p99_ms": 200}])


@pytest.mark.mariadb
@pytest.mark.django_db
def test_the_buffer_pool_option_sets_the_pool_for_the_run_and_restores_it():
    import os

    from bench.__main__ import buffer_pool

    url = os.environ["DATABASE_URL"]  # what the mariadb marker runs on

    def pool() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@innodb_buffer_pool_size")
            return int(cursor.fetchone()[0])

    before = pool()
    wanted_mb = before // 2**20 + 128
    with buffer_pool(url, wanted_mb):
        assert pool() == wanted_mb * 2**20
    assert pool() == before
    with buffer_pool(url, None):  # no option: the server is left alone
        assert pool() == before
