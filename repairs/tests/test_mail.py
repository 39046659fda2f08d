"""The new-request mail: real SMTP, local times, retries with backoff, broker and SMTP outages."""

import datetime as dt
import smtplib
import threading
import time
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest
import time_machine
from celery import signals
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import celery_broker
from repairs import services
from repairs.models import NotificationStatus, RepairNotification
from repairs.tasks import resend_notifications_task, send_notification_task
from wechathhu.celery import app as celery_app

from .factories import FaultCategoryFactory, RecipientFactory, RepairRequestFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
C21 = {"description": "断网", "location": "教学楼201", "category": None}


def header(message, name):
    return str(make_header(decode_header(message[name])))


def outbox_recipients():
    """(name, address) of each mail in Django's test outbox, names decoded."""
    pairs = [parseaddr(to) for m in mail.outbox for to in m.to]
    return sorted((str(make_header(decode_header(name))), address) for name, address in pairs)


def body(message):
    return message.get_payload(decode=True).decode(message.get_content_charset())


@pytest.fixture
def routed(db):
    network = FaultCategoryFactory(name="网络故障", response_hours=24)
    RecipientFactory(name="王网管", email="net@example.edu.cn", category=network)
    RecipientFactory(name="学院办公室", email="office@example.edu.cn", category=None)
    return network


@pytest.fixture
def reporter(db):
    return UserFactory(
        username="T1001", last_name="张", first_name="三", email="t1001@example.edu.cn", phone="13900000000"
    )


def post_c21(client, category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("repairs:repair-list"), {**C21, "category": category.pk}, format="json")


def test_one_mail_per_recipient_through_a_real_smtp_server(
    smtp_server, routed, reporter, make_client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://portal.example.edu.cn"
    with time_machine.travel(dt.datetime(2026, 11, 23, 2, 5, 31, tzinfo=UTC), tick=False):
        response = post_c21(make_client(reporter), routed, django_capture_on_commit_callbacks)
    assert response.status_code == 201
    repair_id = response.json()["id"]

    received = {message["To"]: message for message in smtp_server.messages}
    assert len(smtp_server.messages) == 2
    assert sorted(smtp_server.envelopes[i].rcpt_tos[0] for i in range(2)) == [
        "net@example.edu.cn",
        "office@example.edu.cn",
    ]
    to_net = next(m for to, m in received.items() if "net@example.edu.cn" in to)
    assert header(to_net, "Subject") == f"【故障报修】网络故障｜教学楼201（#{repair_id}）"
    assert header(to_net, "To") == "王网管 <net@example.edu.cn>"
    assert header(to_net, "Reply-To") == "t1001@example.edu.cn"
    text = body(to_net)
    assert "您好，王网管：" in text
    assert "【申请人】张三（T1001" in text
    assert "【联系电话】13900000000" in text
    # 02:05:31 UTC is 10:05:31 in Asia/Shanghai; the deadline is 24 h later, also local.
    assert "【申请时间】2026-11-23 10:05:31（北京时间）" in text
    assert "2026-11-24 10:05（北京时间）前处理完毕" in text
    assert "【故障类别】网络故障" in text
    assert "【故障地点】教学楼201" in text
    assert "断网" in text
    assert f"https://portal.example.edu.cn/admin/repairs/repairrequest/{repair_id}/change/" in text
    assert set(RepairNotification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}


def test_mail_is_queued_only_after_the_commit(routed, reporter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.repair_request_create(
            user=reporter, location="教学楼201", description="断网", category=routed
        )
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert outbox_recipients() == [
        ("学院办公室", "office@example.edu.cn"),
        ("王网管", "net@example.edu.cn"),
    ]


def test_sending_twice_mails_once(routed, reporter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        repair = services.repair_request_create(user=reporter, location="x", description="y", category=routed)
    notification = repair.notifications.first()
    send_notification_task.delay(notification_id=notification.pk)
    services.repair_notification_send(notification_id=notification.pk)
    assert [address for _name, address in outbox_recipients()].count(notification.email) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_broker_down_the_request_is_saved_and_answered_201_then_mailed_later(
    broker_down, routed, reporter, make_client, django_capture_on_commit_callbacks
):
    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        response = post_c21(make_client(reporter), routed, django_capture_on_commit_callbacks)
    assert response.status_code == 201
    assert response.json()["location"] == "教学楼201"
    pending = RepairNotification.objects.filter(request_id=response.json()["id"])
    assert pending.count() == 2 and not pending.filter(sent_at__isnull=False).exists()
    assert mail.outbox == []

    # Still down when the periodic re-send runs: nothing lost, nothing raised.
    with time_machine.travel(start + dt.timedelta(minutes=11), tick=False):
        assert services.repair_notifications_resend_due() == 0

    # The broker is back (tasks run in-process again): the next periodic run sends them.
    celery_app.conf.task_always_eager = True
    with time_machine.travel(start + dt.timedelta(minutes=12), tick=False):
        resend_notifications_task.delay()
    assert outbox_recipients() == [
        ("学院办公室", "office@example.edu.cn"),
        ("王网管", "net@example.edu.cn"),
    ]
    assert not pending.filter(sent_at__isnull=True).exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_request_made_while_the_real_broker_is_stopped_is_mailed_once_when_it_is_back(
    redis_server, settings, routed, reporter, make_client
):
    """A real Redis broker stopped and started again, and a real Celery worker draining it."""
    import redis
    from celery.contrib.testing.worker import start_worker

    settings.REPAIRS_MAIL_RESEND_AFTER_MINUTES = 0  # the periodic job may pick the rows up at once
    with celery_broker(redis_server.url):
        redis_server.stop()
        response = make_client(reporter).post(
            reverse("repairs:repair-list"), {**C21, "category": routed.pk}, format="json"
        )
        assert response.status_code == 201
        pending = RepairNotification.objects.filter(request_id=response.json()["id"])
        assert pending.count() == 2 and not pending.filter(sent_at__isnull=False).exists()

        redis_server.start()
        # The periodic job runs twice before any worker is up: each mail is queued twice.
        assert services.repair_notifications_resend_due() == 2
        assert services.repair_notifications_resend_due() == 2
        broker = redis.Redis.from_url(redis_server.url)
        assert broker.llen("celery") == 4

        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            deadline = time.monotonic() + 30
            while (broker.llen("celery") or broker.hlen("unacked")) and time.monotonic() < deadline:
                time.sleep(0.1)
        assert broker.llen("celery") == 0 and broker.hlen("unacked") == 0
    assert outbox_recipients() == [("学院办公室", "office@example.edu.cn"), ("王网管", "net@example.edu.cn")]
    assert not pending.filter(sent_at__isnull=True).exists()


def test_smtp_errors_are_retried_with_backoff_until_the_mail_goes_out(
    flaky_smtp_server, reporter, django_capture_on_commit_callbacks
):
    RecipientFactory(name="学院办公室", email="office@example.edu.cn", category=None)
    countdowns = []

    def on_retry(sender=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    signals.task_retry.connect(on_retry, sender=send_notification_task, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            repair = services.repair_request_create(user=reporter, location="x", description="y")
    finally:
        signals.task_retry.disconnect(on_retry, sender=send_notification_task)

    assert flaky_smtp_server.refused == 2
    assert len(flaky_smtp_server.messages) == 1
    notification = repair.notifications.get()
    assert (notification.status, notification.attempts, notification.last_error) == (
        NotificationStatus.SENT,
        3,
        "",
    )
    # Exponential backoff with full jitter: at most 60 s, then at most 120 s.
    assert len(countdowns) == 2
    assert 0 <= countdowns[0] <= 60 and 0 <= countdowns[1] <= 120


def test_the_retry_policy_is_bounded_and_backs_off():
    assert smtplib.SMTPException in send_notification_task.autoretry_for
    assert send_notification_task.max_retries == settings.REPAIRS_MAIL_MAX_RETRIES
    assert send_notification_task.retry_backoff == 60
    assert send_notification_task.retry_backoff_max == 1800
    assert send_notification_task.time_limit and send_notification_task.soft_time_limit


def test_smtp_down_the_failure_is_recorded_and_the_periodic_resend_delivers_later(
    smtp_down, settings, reporter, django_capture_on_commit_callbacks
):
    RecipientFactory(name="学院办公室", email="office@example.edu.cn", category=None)
    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        repair = services.repair_request_create(user=reporter, location="x", description="y")
    notification = repair.notifications.get()
    assert notification.status == NotificationStatus.FAILED
    assert notification.attempts == settings.REPAIRS_MAIL_MAX_RETRIES + 1
    assert "ConnectionRefusedError" in notification.last_error
    assert notification.sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        assert services.repair_notifications_resend_due() == 0  # tried too recently
    with time_machine.travel(start + dt.timedelta(minutes=15), tick=False):
        assert services.repair_notifications_resend_due() == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT and len(mail.outbox) == 1


def test_a_hanging_smtp_server_times_out_is_recorded_and_the_mail_goes_out_once_it_answers(
    smtp_server, hanging_smtp_port, settings, reporter
):
    RecipientFactory(name="学院办公室", email="office@example.edu.cn", category=None)
    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        repair = services.repair_request_create(user=reporter, location="x", description="y")
    notification = repair.notifications.get()

    answering_port = settings.EMAIL_PORT
    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = hanging_smtp_port, 1
    with (
        time_machine.travel(start + dt.timedelta(seconds=5)),
        pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"),
    ):
        services.repair_notification_send(notification_id=notification.pk)  # the task retries this
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.sent_at) == (
        NotificationStatus.FAILED,
        1,
        None,
    )
    assert "timed out" in notification.last_error

    settings.EMAIL_PORT = answering_port
    with time_machine.travel(start + dt.timedelta(minutes=15), tick=False):
        assert services.repair_notifications_resend_due() == 1
        assert services.repair_notifications_resend_due() == 0  # sent: nothing left to send again
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    [received] = smtp_server.messages  # exactly one mail reached the server
    assert parseaddr(header(received, "To"))[1] == "office@example.edu.cn"


def test_mail_older_than_the_give_up_window_is_not_resent(routed, reporter, broker_down, settings):
    start = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        services.repair_request_create(user=reporter, location="x", description="y", category=routed)
    celery_app.conf.task_always_eager = True
    late = start + dt.timedelta(hours=settings.REPAIRS_MAIL_GIVE_UP_HOURS, minutes=1)
    with time_machine.travel(late, tick=False):
        assert services.repair_notifications_resend_due() == 0
    assert mail.outbox == []


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_notification_mail_once(routed, reporter):
    # Written directly (not through the create service, whose own task would send it at once).
    repair = RepairRequestFactory(user=reporter, category=routed)
    notification_id = RepairNotification.objects.create(
        request=repair, name="网管", email="net@example.edu.cn"
    ).pk
    barrier = threading.Barrier(4)

    def send():
        try:
            barrier.wait()
            services.repair_notification_send(notification_id=notification_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(mail.outbox) == 1
    assert RepairNotification.objects.get(pk=notification_id).attempts == 1
