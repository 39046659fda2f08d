"""The daily digest (每日播报): at each subscriber's time, once a day, with the day's unread
messages, bookings, activities and curated item; its beat job costs the same whatever the number
of users."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from messaging import digest, services
from messaging.models import DigestDelivery, DigestItem
from messaging.preferences import delivery_preferences_update
from messaging.tasks import digest_due_task
from reservations.tests.factories import MeetingroomFactory, ReservationFactory
from wechathhu.core.outbox import DeliveryStatus

pytestmark = pytest.mark.django_db
UTC = dt.UTC
BEIJING = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 12, 8)
# 07:30 Beijing on DAY.
AT_0730 = dt.datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
# The messages' publishing time: before the digests, whatever the real clock says (sent "now",
# they were in the digests' future once the real clock passed AT_0730).
PUBLISHED = AT_0730 - dt.timedelta(hours=12)


def beijing(hour, minute=0):
    """A moment of DAY in Beijing time."""
    return dt.datetime(2026, 12, 8, hour, minute, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def email_channel(settings):
    settings.MESSAGING_PUSH_CHANNELS = ["email"]


def subscriber(at=dt.time(7, 30), **fields):
    user = UserFactory(**fields)
    delivery_preferences_update(user=user, data={"digest_enabled": True, "digest_time": at})
    return user


def run(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return digest_due_task.apply().get()


def test_each_subscriber_gets_one_digest_at_their_time(django_capture_on_commit_callbacks):
    early = subscriber(email="early@example.edu.cn")
    late = subscriber(at=dt.time(8, 15), email="late@example.edu.cn")
    UserFactory(email="nobody@example.edu.cn")  # not subscribed
    services.message_send(title="停水通知", recipient_ids=[early.pk, late.pk], published_at=PUBLISHED)

    assert run(AT_0730 - dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert run(AT_0730, django_capture_on_commit_callbacks) == 1
    assert run(AT_0730 + dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == 0  # once a day
    assert [m.to for m in mail.outbox] == [["early@example.edu.cn"]]
    assert run(AT_0730 + dt.timedelta(minutes=45), django_capture_on_commit_callbacks) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["early@example.edu.cn", "late@example.edu.cn"]
    assert set(DigestDelivery.objects.values_list("date", "status")) == {(DAY, DeliveryStatus.SENT)}


def test_a_missed_minute_is_caught_up_but_not_an_old_one(settings, django_capture_on_commit_callbacks):
    user = subscriber()
    services.message_send(title="通知", recipient_ids=[user.pk], published_at=PUBLISHED)
    settings.MESSAGING_DIGEST_CATCHUP_MINUTES = 10
    assert run(AT_0730 + dt.timedelta(minutes=11), django_capture_on_commit_callbacks) == 0  # too late today
    assert (
        run(AT_0730 + dt.timedelta(days=1, minutes=9), django_capture_on_commit_callbacks) == 1
    )  # tomorrow's
    assert DigestDelivery.objects.get().date == DAY + dt.timedelta(days=1)


def test_the_digest_says_what_the_day_holds(django_capture_on_commit_callbacks):
    user = subscriber(email="t@example.edu.cn")
    services.message_send(title="期末考试安排", recipient_ids=[user.pk], published_at=PUBLISHED)
    read = services.message_send(title="已读的消息", recipient_ids=[user.pk], published_at=PUBLISHED)
    services.message_mark_read(user=user, message_ids=[read.pk])
    ReservationFactory(
        user=user,
        meetingroom=MeetingroomFactory(name="勤学楼 305"),
        reserve_from=beijing(14),
        reserve_to=beijing(15, 30),
    )
    ReservationFactory(
        user=user,
        reserve_from=beijing(14) + dt.timedelta(days=1),
        reserve_to=beijing(15) + dt.timedelta(days=1),
    )
    activity = ActivityFactory(
        name="人工智能讲座", location="图书馆报告厅", time_start=beijing(19), time_end=beijing(21)
    )
    EnrollmentFactory(activity=activity, user=user)
    ClockinItemFactory(activity=activity, label="签到", from_time=beijing(18, 45), to_time=beijing(19, 15))
    DigestItem.objects.create(date=DAY, kind="song", title="《送别》", body="长亭外，古道边")

    run(AT_0730, django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    assert sent.subject == "【每日播报】每日播报 12月8日"
    assert "【未读消息】1 条" in sent.body and "期末考试安排" in sent.body and "已读的消息" not in sent.body
    assert "14:00–15:30 勤学楼 305" in sent.body
    assert "19:00 人工智能讲座 @ 图书馆报告厅（打卡：签到 18:45–19:15）" in sent.body
    assert "【歌曲】《送别》" in sent.body and "长亭外" in sent.body


def test_an_empty_day_is_not_sent(django_capture_on_commit_callbacks):
    subscriber()
    run(AT_0730, django_capture_on_commit_callbacks)
    row = DigestDelivery.objects.get()
    assert (row.status, row.reason) == (DeliveryStatus.SKIPPED, "empty") and mail.outbox == []


def test_a_subscriber_reachable_nowhere_is_recorded_as_skipped(django_capture_on_commit_callbacks):
    subscriber(email="")
    run(AT_0730, django_capture_on_commit_callbacks)
    row = DigestDelivery.objects.get()
    assert (row.status, row.reason) == (DeliveryStatus.SKIPPED, "not_bound")


def test_the_beat_jobs_queries_do_not_grow_with_the_subscribers(django_capture_on_commit_callbacks):
    subscriber()
    with CaptureQueriesContext(connection) as one, time_machine.travel(AT_0730, tick=False):
        digest.digests_queue_due()
    for _ in range(15):
        subscriber()
    UserFactory.create_batch(10)  # users who never subscribed cost nothing either
    with CaptureQueriesContext(connection) as many, time_machine.travel(AT_0730, tick=False):
        digest.digests_queue_due()
    assert len(one) == len(many)


def test_the_catch_up_across_midnight_gives_each_subscriber_the_digest_of_their_own_day(
    settings, django_capture_on_commit_callbacks
):
    """At 00:03 the window (10 minutes back) holds yesterday's 23:58 and today's 00:01: a row of
    the other day does not count as done, one of the subscriber's own day does."""
    settings.MESSAGING_DIGEST_CATCHUP_MINUTES = 10
    late, early, done = (
        subscriber(at=dt.time(23, 58)),
        subscriber(at=dt.time(0, 1)),
        subscriber(at=dt.time(23, 58)),
    )
    yesterday, today = DAY - dt.timedelta(days=1), DAY
    DigestDelivery.objects.create(
        user=early, date=yesterday, channel="email", status=DeliveryStatus.SENT, sent_at=AT_0730
    )
    DigestDelivery.objects.create(
        user=done, date=yesterday, channel="email", status=DeliveryStatus.SENT, sent_at=AT_0730
    )

    with time_machine.travel(beijing(0, 3), tick=False):
        assert digest.digests_queue_due() == 2
    assert set(
        DigestDelivery.objects.filter(status=DeliveryStatus.QUEUED).values_list("user_id", "date")
    ) == {
        (late.pk, yesterday),
        (early.pk, today),
    }
    with time_machine.travel(beijing(0, 4), tick=False):
        assert digest.digests_queue_due() == 0


def test_the_beat_job_is_one_read_and_one_insert(django_capture_on_commit_callbacks):
    """The subscribers due with their addresses in one SELECT, their rows in one INSERT (the
    rows written come back from it: no read-back) — whatever the minute holds."""
    for n in range(40):
        subscriber(email=f"s{n}@example.edu.cn" if n % 4 else "")
    with CaptureQueriesContext(connection) as queries, time_machine.travel(AT_0730, tick=False):
        assert digest.digests_queue_due() == 40
    statements = [q["sql"].split()[0].upper() for q in queries if "SAVEPOINT" not in q["sql"]]
    if connection.features.can_return_columns_from_insert:
        assert statements == ["SELECT", "INSERT"]
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SKIPPED, reason="not_bound").count() == 10
    assert DigestDelivery.objects.filter(status=DeliveryStatus.QUEUED).count() == 30
