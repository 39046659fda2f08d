"""The delivery rules against a local fake WeChat over real HTTP (issue 13, "Must show").

``official.tests.fake_wechat.FakeWeChat`` is a real HTTP server on 127.0.0.1 that keeps an access
token per app id and counts the pushes each openid received; the real wechatpy clients of the
mini-program (subscribe messages) and of the official account (template messages) talk to it
over a socket. E-mail goes to a real SMTP server (aiosmtpd). What ``test_delivery.py`` and
``test_delivery_rules.py`` already prove with WeChat faked by ``responses`` is not repeated here;
these tests look at what reached the fake: each channel's payload, both tokens, every errcode
class on both WeChat channels, the pace, a crashed worker, and whole flows counted per openid.
"""

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging import services
from messaging.delivery_report import message_delivery_report
from messaging.models import DeliveryKind, MessageDelivery
from messaging.preferences import delivery_preferences_update
from messaging.tasks import message_send_reminders_task
from official.tests.factories import BoundFollowerFactory
from wechathhu.core import outbox
from wechathhu.core.outbox import DeliveryStatus

pytestmark = pytest.mark.django_db
UTC = dt.UTC
MORNING = dt.datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
LABEL = MessageDelivery._meta.label


@pytest.fixture
def fake(official_account, settings):
    """Both WeChat channels and e-mail on, every API call going to the fake; no pacing (the rate
    test sets its own)."""
    settings.WECHAT_ENABLED = True
    settings.WECHAT_APP_ID = "wx-mini-program"
    settings.WECHAT_APP_SECRET = "mini-secret"
    settings.MESSAGING_WECHAT_TEMPLATE_ID = "TPL-MP"
    settings.MESSAGING_OFFICIAL_TEMPLATE_ID = "TPL-OA"
    settings.MESSAGING_PUSH_CHANNELS = ["wechat", "wechat_oa", "email"]
    settings.MESSAGING_PUSH_MIN_PRIORITY = "normal"
    settings.OUTBOX_RATES = {}
    settings.SITE_URL = "https://portal.example.edu.cn"
    return official_account


def mini_program_user(openid: str, **fields):
    return UserFactory(wechat_openid=openid, email="", **fields)


def follower_user(openid: str):
    return BoundFollowerFactory(openid=openid, user=UserFactory(email="")).user


def send(capture, *, at=MORNING, **kwargs):
    """Send a message as its sender would, at ``at`` (frozen), or now with the clock running
    (``at=None``: the pace of sends needs a clock that moves)."""
    kwargs.setdefault("title", "教务通知")
    if at is None:
        with capture(execute=True):
            return services.message_send(**kwargs)
    with time_machine.travel(at, tick=False), capture(execute=True):
        return services.message_send(**kwargs)


def rows(message, **filters):
    return {
        (d.recipient_id, d.channel): (d.status, d.reason)
        for d in MessageDelivery.objects.filter(message=message, **filters)
    }


# --- Success on every channel -------------------------------------------------------------------------


def test_urgent_reaches_each_channel_once_with_its_payload(
    fake, smtp_server, django_capture_on_commit_callbacks
):
    user = UserFactory(wechat_openid="mp-all", email="all@example.edu.cn")
    BoundFollowerFactory(openid="oa-all", user=user)

    message = send(
        django_capture_on_commit_callbacks,
        title="紧急：今晚行政楼停电检修",
        content="22:00-24:00",
        priority="urgent",
        recipient_ids=[user.pk],
    )

    assert rows(message) == {
        (user.pk, "wechat"): (DeliveryStatus.SENT, ""),
        (user.pk, "wechat_oa"): (DeliveryStatus.SENT, ""),
        (user.pk, "email"): (DeliveryStatus.SENT, ""),
    }
    assert fake.pushes_per_openid("subscribe") == Counter({"mp-all": 1})
    assert fake.pushes_per_openid("template") == Counter({"oa-all": 1})
    [subscribe] = fake.subscribe
    assert (subscribe["template_id"], subscribe["page"]) == (
        "TPL-MP",
        f"pages/messages/detail?id={message.pk}",
    )
    assert subscribe["data"]["thing1"]["value"] == "紧急：今晚行政楼停电检修"
    [template] = fake.templates
    assert template["template_id"] == "TPL-OA"
    assert template["url"] == f"https://portal.example.edu.cn/m/messages/{message.pk}/"
    # Each app has its own access token, fetched once.
    assert fake.token_fetches == 2
    [mailed] = smtp_server.messages
    assert mailed["To"] == "all@example.edu.cn"


# --- Every errcode class, on both WeChat channels ---------------------------------------------------------


def _one_channel_user(channel: str, openid: str):
    return mini_program_user(openid) if channel == "wechat" else follower_user(openid)


@pytest.mark.parametrize(
    ("channel", "answer", "reason"),
    [
        ("wechat", (-1, "system error"), "busy"),
        ("wechat_oa", (-1, "system error"), "busy"),
        ("wechat", (45009, "reach max api daily quota limit"), "rate_limited"),
        ("wechat_oa", (45009, "reach max api daily quota limit"), "rate_limited"),
        ("wechat", 502, "unreachable"),
        ("wechat_oa", 500, "unreachable"),
    ],
    ids=["mp-busy", "oa-busy", "mp-45009", "oa-45009", "mp-http-502", "oa-http-500"],
)
def test_transient_answers_back_off_then_go_out_once(
    fake, channel, answer, reason, django_capture_on_commit_callbacks
):
    user = _one_channel_user(channel, "o-transient")
    fake.script_openid["o-transient"] = [answer]
    message = send(django_capture_on_commit_callbacks, priority="urgent", recipient_ids=[user.pk])

    row = MessageDelivery.objects.get(message=message)
    assert (row.status, row.attempts, row.reason) == (DeliveryStatus.QUEUED, 1, reason)
    # Backed off: due again no sooner than half the first backoff (jitter), no later than it.
    backoff = django_settings.OUTBOX_RETRY_BACKOFF_SECONDS
    assert (
        MORNING + dt.timedelta(seconds=backoff / 2)
        <= row.next_attempt_at
        <= MORNING + dt.timedelta(seconds=backoff)
    )
    with time_machine.travel(MORNING + dt.timedelta(seconds=backoff / 4), tick=False):
        assert outbox.sweep() == 0  # not due yet: nothing is hammered
    with time_machine.travel(MORNING + dt.timedelta(seconds=backoff + 1), tick=False):
        assert outbox.sweep() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error_code, row.reason) == (DeliveryStatus.SENT, 2, None, "")
    assert fake.pushes_per_openid() == Counter({"o-transient": 1})


@pytest.mark.parametrize(
    ("channel", "errcode", "reason"),
    [
        ("wechat", 43101, "no_consent"),
        ("wechat", 40003, "invalid_openid"),
        ("wechat_oa", 43004, "not_following"),
        ("wechat_oa", 40003, "invalid_openid"),
    ],
)
def test_permanent_refusals_fail_at_once_with_their_reason(
    fake, channel, errcode, reason, django_capture_on_commit_callbacks
):
    user = _one_channel_user(channel, "o-refused")
    fake.refuse_openid["o-refused"] = (errcode, "refused")
    message = send(django_capture_on_commit_callbacks, priority="urgent", recipient_ids=[user.pk])

    row = MessageDelivery.objects.get(message=message)
    assert (row.status, row.attempts, row.error_code, row.reason) == (
        DeliveryStatus.FAILED,
        1,
        errcode,
        reason,
    )
    assert row.next_attempt_at is None
    with time_machine.travel(MORNING + dt.timedelta(hours=3), tick=False):
        assert outbox.sweep() == 0  # never tried again
    assert fake.pushes_per_openid() == Counter()
    report = message_delivery_report(message=message)
    assert report.channels[0].failed_by_reason == {reason: 1}


def test_a_follower_who_unfollowed_before_the_send_is_skipped(fake, django_capture_on_commit_callbacks):
    follower = BoundFollowerFactory(openid="oa-gone", user=UserFactory(email=""))
    message = services.message_send(title="通知", priority="urgent", recipient_ids=[follower.user_id])
    services.message_publish(message_id=message.pk)  # rows written; the send comes later
    follower.subscribed = False
    follower.save(update_fields=["subscribed"])

    assert outbox.deliver(LABEL, MessageDelivery.objects.values_list("pk", flat=True)) == {"skipped": 1}
    assert rows(message) == {(follower.user_id, "wechat_oa"): (DeliveryStatus.SKIPPED, "not_following")}
    assert fake.pushes_per_openid() == Counter()


# --- Tokens, pace, crashes ----------------------------------------------------------------------------------


def test_an_expired_token_is_fetched_again_once_per_app_and_each_push_goes_out_once(
    fake, django_capture_on_commit_callbacks
):
    mp, oa = mini_program_user("mp-token"), follower_user("oa-token")
    send(django_capture_on_commit_callbacks, priority="urgent", recipient_ids=[mp.pk])
    send(django_capture_on_commit_callbacks, priority="urgent", recipient_ids=[oa.pk])
    assert fake.token_fetches == 2

    fake.expire_token()  # WeChat answers 40001 to both cached tokens
    message = send(django_capture_on_commit_callbacks, priority="urgent", recipient_ids=[mp.pk, oa.pk])

    assert set(rows(message).values()) == {(DeliveryStatus.SENT, "")}
    assert MessageDelivery.objects.filter(message=message, attempts=1).count() == 2  # one attempt each
    assert fake.token_fetches == 4  # one new token per app, no loop
    assert fake.pushes_per_openid() == Counter({"mp-token": 2, "oa-token": 2})


def test_pushes_keep_to_the_channels_rate_and_a_45009_backs_off(
    fake, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_RATES = {"wechat_mp": 3}
    users = [mini_program_user(f"mp-rate-{n}") for n in range(7)]

    send(django_capture_on_commit_callbacks, at=None, priority="urgent", recipient_ids=[u.pk for u in users])

    times = fake.push_times()
    assert len(times) == 7 and set(fake.pushes_per_openid().values()) == {1}
    # At most 3 in each second of the clock (the budget every worker shares through the cache).
    assert max(Counter(int(at) for at in times).values()) <= 3
    assert int(times[-1]) - int(times[0]) >= 2  # 7 pushes at 3/s span three seconds

    # When WeChat says 45009 all the same (another sender shares the quota), the row backs off.
    settings.OUTBOX_RATES = {}
    fake.push_limit_per_second = 1
    message = send(
        django_capture_on_commit_callbacks,
        at=None,
        priority="urgent",
        recipient_ids=[u.pk for u in users[:3]],
    )
    statuses = Counter((d.status, d.reason) for d in MessageDelivery.objects.filter(message=message))
    assert statuses[(DeliveryStatus.QUEUED, "rate_limited")] >= 2
    assert statuses[(DeliveryStatus.QUEUED, "rate_limited")] + statuses[(DeliveryStatus.SENT, "")] == 3
    waiting = MessageDelivery.objects.filter(message=message, status=DeliveryStatus.QUEUED)
    assert all(d.next_attempt_at > timezone.now() for d in waiting)


def test_a_row_claimed_by_a_worker_that_died_is_sent_once_after_its_lease(fake, settings):
    user = mini_program_user("mp-crash")
    message = services.message_send(title="通知", priority="urgent", recipient_ids=[user.pk])
    services.message_publish(message_id=message.pk)  # rows written; their task never ran
    row = MessageDelivery.objects.get(message=message)
    claimed_at = timezone.now()
    assert outbox._claim(MessageDelivery, row.pk, claimed_at)  # a worker took it … and died

    assert outbox.deliver(LABEL, [row.pk]) == {"not_ours": 1}  # another worker: the lease holds
    assert outbox.sweep() == 0
    lease = dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with time_machine.travel(claimed_at + lease + dt.timedelta(seconds=1), tick=False):
        assert outbox.sweep() == 1  # its lease expired: sent by the next worker
        assert outbox.sweep() == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert fake.pushes_per_openid() == Counter({"mp-crash": 1})


def test_a_row_whose_worker_died_during_the_call_is_not_pushed_again_but_can_be_retried(
    fake, settings, django_capture_on_commit_callbacks
):
    """WeChat has no idempotency key: a call cut off by a dead worker may have reached it. The row
    is failed as "interrupted" (never a second copy by itself) and staff may send it again."""
    user = mini_program_user("mp-cut")
    message = services.message_send(title="通知", priority="urgent", recipient_ids=[user.pk])
    services.message_publish(message_id=message.pk)
    row = MessageDelivery.objects.get(message=message)
    claimed_at = timezone.now()
    assert outbox._claim(MessageDelivery, row.pk, claimed_at)
    assert outbox._record(MessageDelivery, row.pk, 1, reason=outbox.IN_FLIGHT)  # the call started … and died

    lease = dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with time_machine.travel(claimed_at + lease + dt.timedelta(seconds=1), tick=False):
        assert outbox.sweep() == 0
        assert outbox.deliver(LABEL, [row.pk]) == {"not_ours": 1}  # a redelivered task sends nothing
    row.refresh_from_db()
    assert (row.status, row.reason, row.next_attempt_at) == (DeliveryStatus.FAILED, "interrupted", None)
    assert fake.pushes_per_openid() == Counter()
    assert message_delivery_report(message=message).channels[0].failed_by_reason == {"interrupted": 1}

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry(MessageDelivery.objects.filter(pk=row.pk)) == 1  # staff: send it again
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and fake.pushes_per_openid() == Counter({"mp-cut": 1})


# --- Whole flows, counted at the fake -----------------------------------------------------------------------


def test_quiet_hours_hold_a_push_an_urgent_one_goes_at_once_and_the_held_one_at_the_end(
    fake, django_capture_on_commit_callbacks
):
    user = mini_program_user("mp-night")
    delivery_preferences_update(
        user=user, data={"quiet_hours_start": dt.time(22), "quiet_hours_end": dt.time(7)}
    )
    night = dt.datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
    held = send(django_capture_on_commit_callbacks, at=night, title="明日课表调整", recipient_ids=[user.pk])
    urgent = send(
        django_capture_on_commit_callbacks,
        at=night,
        title="紧急停电",
        priority="urgent",
        recipient_ids=[user.pk],
    )

    assert rows(held) == {(user.pk, "wechat"): (DeliveryStatus.QUEUED, "quiet_hours")}
    assert rows(urgent) == {(user.pk, "wechat"): (DeliveryStatus.SENT, "")}
    assert [s["data"]["thing1"]["value"] for s in fake.subscribe] == ["紧急停电"]

    with time_machine.travel(dt.datetime(2026, 12, 7, 22, 59, tzinfo=UTC), tick=False):
        assert outbox.sweep() == 0  # 06:59: still quiet
    # 07:03: released by the sweep (a held row is due at 07:00, swept after the outbox's grace).
    with time_machine.travel(dt.datetime(2026, 12, 7, 23, 3, tzinfo=UTC), tick=False):
        assert outbox.sweep() == 1
    assert rows(held) == {(user.pk, "wechat"): (DeliveryStatus.SENT, "")}
    assert [s["data"]["thing1"]["value"] for s in fake.subscribe] == ["紧急停电", "明日课表调整"]
    assert fake.pushes_per_openid() == Counter({"mp-night": 2})


def test_a_second_push_reaches_only_who_has_not_read(fake, django_capture_on_commit_callbacks):
    reader, forgetful = mini_program_user("mp-reader"), follower_user("oa-forgetful")
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        message = services.message_create(
            sender=UserFactory(is_staff=True, kind="staff"),
            title="请填写问卷",
            recipient_ids=[reader.pk, forgetful.pk],
            remind_unread_after_hours=2,
        )
    services.message_mark_read(user=reader, message_ids=[message.pk])
    with (
        time_machine.travel(MORNING + dt.timedelta(hours=2, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert message_send_reminders_task.apply().get() == 1
    assert rows(message, kind=DeliveryKind.REMINDER) == {
        (forgetful.pk, "wechat_oa"): (DeliveryStatus.SENT, "")
    }
    assert fake.pushes_per_openid() == Counter({"mp-reader": 1, "oa-forgetful": 2})


def test_the_reports_figures_equal_the_rows_and_the_fakes_count(fake, django_capture_on_commit_callbacks):
    """Five recipients over both WeChat channels: sent, refused, unreachable, held, and a retry."""
    sent_mp, sent_oa = mini_program_user("mp-ok"), follower_user("oa-ok")
    refused, nowhere = mini_program_user("mp-no"), UserFactory(email="")
    quiet, retried = follower_user("oa-quiet"), mini_program_user("mp-busy")
    delivery_preferences_update(
        user=quiet, data={"quiet_hours_start": dt.time(9), "quiet_hours_end": dt.time(11)}
    )
    fake.refuse_openid["mp-no"] = (43101, "user refuse to accept the msg")
    fake.script_openid["mp-busy"] = [(-1, "system error")]
    everyone = [sent_mp, sent_oa, refused, nowhere, quiet, retried]
    message = send(django_capture_on_commit_callbacks, recipient_ids=[u.pk for u in everyone])
    services.message_mark_read(user=sent_oa, message_ids=[message.pk])

    report = message_delivery_report(message=message)
    deliveries = MessageDelivery.objects.filter(message=message, kind=DeliveryKind.INITIAL)
    for figures in report.channels:
        of_channel = deliveries.filter(channel=figures.channel)
        assert outbox.status_counts(of_channel) == {
            "queued": figures.queued,
            "sending": figures.sending,
            "sent": figures.sent,
            "failed": figures.failed,
            "skipped": figures.skipped,
        }
        for status, by_reason in (
            ("failed", figures.failed_by_reason),
            ("skipped", figures.skipped_by_reason),
            ("queued", figures.waiting_by_reason),
        ):
            assert by_reason == dict(
                Counter(of_channel.filter(status=status).exclude(reason="").values_list("reason", flat=True))
            )
    assert sum(f.total for f in report.channels) == deliveries.count() == len(everyone)
    assert (report.audience_size, report.read, report.failed) == (6, 1, 1)
    # Reached = recipients with a push sent = the openids the fake counted.
    pushed = fake.pushes_per_openid()
    assert (
        report.reached == deliveries.filter(status=DeliveryStatus.SENT).count() == sum(pushed.values()) == 2
    )
    assert {f.channel: f.waiting_by_reason for f in report.channels} == {
        "wechat": {"busy": 1},
        "wechat_oa": {"quiet_hours": 1},
    }
