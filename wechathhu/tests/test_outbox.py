"""The shared outbox (wechathhu.core.outbox), through real senders: repair mail over real SMTP
servers that refuse, fail, hang or answer, and the Celery tasks that carry the rows."""

import asyncio
import datetime as dt
import os
import smtplib
import subprocess
import sys
import threading
import time
from email.utils import parseaddr

import pytest
import redis
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import celery_broker
from repairs import services as repair_services
from repairs.models import RepairNotification
from repairs.tests.factories import RecipientFactory, RepairRequestFactory
from wechathhu.celery import app as celery_app
from wechathhu.core import outbox
from wechathhu.core.outbox import DeliveryStatus

pytestmark = pytest.mark.django_db
UTC = dt.UTC
START = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LABEL = RepairNotification._meta.label


@pytest.fixture
def office(db):
    return RecipientFactory(name="学院办公室", email="office@example.edu.cn", category=None)


def new_repair(**kwargs):
    return repair_services.repair_request_create(
        user=kwargs.pop("user", None) or UserFactory(), location="教学楼201", description="断网", **kwargs
    )


def notification(**fields) -> RepairNotification:
    """A mail row written directly (as a service writes it, without running its fast path)."""
    fields.setdefault("request", RepairRequestFactory())
    fields.setdefault("name", "网管")
    fields.setdefault("email", "net@example.edu.cn")
    return RepairNotification.objects.create(**fields)


def at(moment, fn, *args, **kwargs):
    with time_machine.travel(moment, tick=False):
        return fn(*args, **kwargs)


def received_addresses(inbox):
    return sorted(parseaddr(message["To"])[1] for message in inbox.messages)


# --- The fast path and the transaction ------------------------------------------------------------


def test_rows_are_sent_after_the_commit_and_never_after_a_rollback(
    office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        new_repair()
    assert len(callbacks) == 1 and len(mail.outbox) == 1
    assert RepairNotification.objects.get().status == DeliveryStatus.SENT

    mail.outbox.clear()

    def create_then_fail():
        with transaction.atomic():
            new_repair()
            raise RuntimeError("the caller's transaction fails after the repair was written")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        create_then_fail()
    assert callbacks == [] and mail.outbox == []
    assert RepairNotification.objects.count() == 1  # the rolled-back row is gone with its repair


def test_tasks_and_the_sweep_are_registered_and_scheduled_every_minute():
    # What a worker does at start: import every app's tasks module (autodiscovery). Without it the
    # check depends on which tests ran before in this process (an xdist worker may have run none).
    celery_app.loader.import_default_modules()
    assert {"outbox.deliver", "outbox.sweep"} <= set(celery_app.tasks)
    [entry] = [e for e in celery_app.conf.beat_schedule.values() if e["task"] == "outbox.sweep"]
    assert str(entry["schedule"]) == str(celery_app.conf.beat_schedule["messaging-publish-due"]["schedule"])
    deliver = celery_app.tasks["outbox.deliver"]
    assert deliver.acks_late and deliver.time_limit and deliver.soft_time_limit


def test_a_row_is_sent_once_however_often_it_is_delivered():
    row = notification()
    assert outbox.deliver(LABEL, [row.pk]) == {"sent": 1}
    assert outbox.deliver(LABEL, [row.pk]) == {"not_ours": 1}
    celery_app.tasks["outbox.deliver"].apply(kwargs={"model": LABEL, "ids": [row.pk]})
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (DeliveryStatus.SENT, 1, None)
    assert row.sent_at is not None and row.last_error == ""


# --- Transient and permanent errors ----------------------------------------------------------------


def test_a_temporary_smtp_error_is_retried_with_backoff_until_the_mail_goes_out(flaky_smtp_server):
    row = at(START, notification)
    assert at(START, outbox.deliver, LABEL, [row.pk]) == {"queued": 1}
    row.refresh_from_db()
    # First retry: the base backoff (60 s) drawn from its upper half.
    assert row.status == DeliveryStatus.QUEUED and row.attempts == 1 and row.error_code == 451
    assert dt.timedelta(seconds=30) <= row.next_attempt_at - START <= dt.timedelta(seconds=60)
    assert "451" in row.last_error and row.reason == "smtp_busy"

    # Not due yet: the sweep leaves it alone; due: it is tried again (and refused again).
    assert at(START + dt.timedelta(seconds=29), outbox.sweep) == 0
    second = START + dt.timedelta(seconds=61)
    assert at(second, outbox.sweep) == 1
    row.refresh_from_db()
    assert row.attempts == 2
    # The second backoff doubles: between 60 and 120 s.
    assert dt.timedelta(seconds=60) <= row.next_attempt_at - second <= dt.timedelta(seconds=120)

    assert at(second + dt.timedelta(seconds=121), outbox.sweep) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error, row.error_code) == (DeliveryStatus.SENT, 3, "", None)
    assert flaky_smtp_server.refused == 2 and received_addresses(flaky_smtp_server) == ["net@example.edu.cn"]


def test_attempts_are_bounded_and_the_last_error_is_recorded(smtp_down, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    row = at(START, notification)
    moment = START
    for _ in range(3):
        at(moment, outbox.deliver, LABEL, [row.pk])
        moment += dt.timedelta(hours=1)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)
    assert "ConnectionRefusedError" in row.last_error and row.reason == "unreachable"
    assert at(moment, outbox.sweep) == 0  # a failed row is never picked up again by itself


def test_a_permanent_refusal_fails_at_once(smtp_server):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 No such user"

    smtp_server.handle_RCPT = refuse
    row = notification()
    assert outbox.deliver(LABEL, [row.pk]) == {"failed": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error_code, row.reason) == (
        DeliveryStatus.FAILED,
        1,
        550,
        "rejected",
    )
    assert "收件地址被拒绝" in row.last_error


def test_a_recipient_the_server_hangs_on_times_out_and_does_not_hold_up_the_rows_behind_it(
    smtp_server, settings
):
    """One slow call delays only itself: the row behind it in the same batch is sent."""
    hang = {"on": True}

    async def slow_rcpt(server, session, envelope, address, rcpt_options):
        if hang["on"] and address.startswith("stuck"):
            await asyncio.sleep(3)  # longer than the client waits
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = slow_rcpt
    settings.EMAIL_TIMEOUT = 1
    stuck = at(START, notification, email="stuck@example.edu.cn")
    fine = at(START, notification, email="fine@example.edu.cn")
    assert at(START, outbox.deliver, LABEL, [stuck.pk, fine.pk]) == {"queued": 1, "sent": 1}
    stuck.refresh_from_db()
    assert stuck.status == DeliveryStatus.QUEUED and "timed out" in stuck.last_error
    assert received_addresses(smtp_server) == ["fine@example.edu.cn"]

    hang["on"] = False  # the server answers again: the retry goes out, once
    assert at(START + dt.timedelta(minutes=5), outbox.sweep) == 1
    assert at(START + dt.timedelta(minutes=10), outbox.sweep) == 0
    assert received_addresses(smtp_server) == ["fine@example.edu.cn", "stuck@example.edu.cn"]


# --- Crashes, the sweep, giving up, staff retries ------------------------------------------------------


def test_a_send_whose_worker_died_is_sent_again_once_its_lease_expires(settings):
    """A worker killed during the call leaves its row "sending" under a lease: nothing touches it
    until the lease expires, then the sweep sends it — the only call that can be repeated."""
    lease_end = START + dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    row = at(START, notification, status=DeliveryStatus.SENDING, attempts=1, next_attempt_at=lease_end)
    assert at(lease_end - dt.timedelta(seconds=1), outbox.sweep) == 0
    # A duplicate task can't take it either.
    assert at(lease_end - dt.timedelta(seconds=1), outbox.deliver, LABEL, [row.pk]) == {"not_ours": 1}
    assert at(lease_end + dt.timedelta(seconds=1), outbox.sweep) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, len(mail.outbox)) == (DeliveryStatus.SENT, 2, 1)


def test_a_row_whose_task_never_came_is_picked_up_by_the_sweep_after_the_grace(settings):
    row = at(START, notification)
    grace = dt.timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    assert at(START + grace - dt.timedelta(seconds=1), outbox.sweep) == 0  # its own task may come
    assert at(START + grace + dt.timedelta(seconds=1), outbox.sweep) == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(mail.outbox) == 1


def test_rows_older_than_the_give_up_window_fail_instead_of_going_out(settings):
    row = at(START, notification)
    late = START + dt.timedelta(hours=settings.OUTBOX_GIVE_UP_HOURS, minutes=1)
    assert at(late, outbox.sweep) == 0
    row.refresh_from_db()
    assert (row.status, row.reason, row.next_attempt_at) == (DeliveryStatus.FAILED, "expired", None)
    assert mail.outbox == []


def test_staff_retry_sends_failed_rows_again_with_fresh_attempts(django_capture_on_commit_callbacks):
    failed = notification(status=DeliveryStatus.FAILED, attempts=6, next_attempt_at=None, last_error="x")
    sent = notification(email="done@example.edu.cn", status=DeliveryStatus.SENT, attempts=1, sent_at=START)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry(RepairNotification.objects.all()) == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (DeliveryStatus.SENT, 1, "")
    assert [parseaddr(m.to[0])[1] for m in mail.outbox] == ["net@example.edu.cn"]
    assert RepairNotification.objects.get(pk=sent.pk).attempts == 1


def test_status_counts_list_every_status():
    notification(status=DeliveryStatus.FAILED, next_attempt_at=None)
    notification(email="b@example.edu.cn")
    assert outbox.status_counts(RepairNotification.objects.all()) == {
        "queued": 1,
        "sending": 0,
        "sent": 0,
        "failed": 1,
        "skipped": 0,
    }


# --- The broker and the pace ---------------------------------------------------------------------------


def test_a_broker_outage_never_fails_the_write_and_the_sweep_sends_once_it_is_back(
    broker_down, office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        repair = at(START, new_repair)
    row = repair.notifications.get()
    assert row.status == DeliveryStatus.QUEUED and mail.outbox == []

    later = START + dt.timedelta(minutes=5)
    assert at(later, outbox.sweep) == 0  # still down: nothing queued, nothing raised
    celery_app.conf.task_always_eager = True  # the broker is back
    assert at(later + dt.timedelta(minutes=1), outbox.sweep) == 1
    assert at(later + dt.timedelta(minutes=2), outbox.sweep) == 0
    assert len(mail.outbox) == 1


ACROSS_WORKERS = pytest.param(2, marks=[pytest.mark.mariadb, pytest.mark.django_db(transaction=True)])


@pytest.mark.parametrize("workers", [1, ACROSS_WORKERS], ids=["one-worker", "two-workers"])
def test_sends_on_one_channel_keep_to_its_rate(smtp_server, settings, workers):
    """Workers (threads here) share one budget of 2 mails a second through the cache."""
    settings.OUTBOX_RATES = {"email": 2}
    arrivals = []
    accept = smtp_server.handle_DATA

    async def timed_data(server, session, envelope):
        arrivals.append(time.time())
        return await accept(server, session, envelope)

    smtp_server.handle_DATA = timed_data
    rows = [notification(email=f"u{i}@example.edu.cn") for i in range(6)]
    started = time.time()

    def worker(ids):
        try:
            outbox.deliver(LABEL, ids)
        finally:
            if workers > 1:
                connection.close()

    if workers == 1:
        worker([r.pk for r in rows])
    else:
        shares = [[r.pk for r in rows[i::workers]] for i in range(workers)]
        threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(smtp_server.messages) == 6
    # At most 2 sends are let through per clock second, so 6 take three seconds at least: the last
    # arrives in the third second after the start or later (measured where they arrive, since a
    # loaded machine delays single sends; without the limit all 6 arrive at once).
    assert max(arrivals) >= int(started) + 2


def test_the_rate_spreads_sends_over_the_second_instead_of_bunching_them(settings):
    """Threads sharing a channel of 10 sends a second get turns 0.1 s apart: never the whole second's
    budget at once (a per-second counter let 10 through in a few milliseconds, and the end of one
    second and the start of the next together), and 24 sends take over two seconds."""
    settings.OUTBOX_RATES = {"email": 10}
    times = []
    lock = threading.Lock()

    def sender():
        for _ in range(6):
            outbox.rate_limit_wait("email")
            with lock:
                times.append(time.time())

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    times.sort()
    assert len(times) == 24
    assert times[-1] - times[0] >= 2.0
    # Within any 0.25 s, 3 turns at most (2 slots, plus one send its thread woke late for).
    assert max(sum(1 for t in times if start <= t < start + 0.25) for start in times) <= 3


# --- Real concurrency and a real worker (MariaDB, Redis) ------------------------------------------------


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_row_exactly_once(smtp_server):
    rows = [notification(email=f"u{i}@example.edu.cn") for i in range(20)]
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            outbox.deliver(LABEL, [r.pk for r in rows])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert received_addresses(smtp_server) == sorted(r.email for r in rows)
    assert set(RepairNotification.objects.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}


def test_the_outside_worlds_answers_are_classified():
    """The classification the senders rely on (each answer as smtplib reports it)."""
    assert isinstance(outbox.classify(smtplib.SMTPServerDisconnected("gone")), outbox.Transient)
    assert isinstance(outbox.classify(smtplib.SMTPDataError(451, b"later")), outbox.Transient)
    assert isinstance(outbox.classify(smtplib.SMTPDataError(554, b"spam")), outbox.Permanent)
    refused = smtplib.SMTPRecipientsRefused({"a@example.edu.cn": (450, b"mailbox busy")})
    assert isinstance(outbox.classify(refused), outbox.Transient)
    assert outbox.classify(ValueError("a bug")) is None
    assert settings.OUTBOX_MAX_ATTEMPTS >= 2


@pytest.mark.redis
@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_with_a_real_broker_and_worker_rows_written_while_it_was_stopped_go_out_once(
    redis_server, smtp_server, office, make_client
):
    from celery.contrib.testing.worker import start_worker

    with celery_broker(redis_server.url):
        redis_server.stop()
        response = make_client(UserFactory()).post(
            reverse("repairs:repair-list"), {"location": "教学楼201", "description": "断网"}, format="json"
        )
        assert response.status_code == 201
        redis_server.start()
        later = dt.datetime.now(UTC) + dt.timedelta(minutes=5)
        # Twice before any worker is up: each row is queued twice, and still mailed once.
        assert at(later, outbox.sweep) == 1 and at(later, outbox.sweep) == 1
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            broker = redis.Redis.from_url(redis_server.url)
            deadline = time.monotonic() + 30
            while (broker.llen("celery") or broker.hlen("unacked")) and time.monotonic() < deadline:
                time.sleep(0.1)
    assert received_addresses(smtp_server) == ["office@example.edu.cn"]
    assert RepairNotification.objects.get().status == DeliveryStatus.SENT


@pytest.mark.redis
@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_repeats_at_most_the_call_in_flight(redis_server, smtp_server, settings):
    """A real Celery worker process is killed (SIGKILL) while the SMTP server holds its third mail
    of a batch of five; a new worker and the sweep finish the batch: every address gets its mail
    exactly once (the one in flight never completed, so even it is not doubled)."""
    held = threading.Event()
    release = threading.Event()
    accept = smtp_server.handle_DATA

    async def hold_third(server, session, envelope):
        if envelope.rcpt_tos == ["u2@example.edu.cn"] and not release.is_set():
            held.set()
            while not release.is_set():
                await asyncio.sleep(0.05)
            return "421 Service closing"  # the client is gone by now
        return await accept(server, session, envelope)

    smtp_server.handle_DATA = hold_third
    rows = [notification(email=f"u{i}@example.edu.cn") for i in range(5)]
    env = {
        **os.environ,
        "DEBUG": "true",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": "mysql://root@127.0.0.1:3306/" + settings.DATABASES["default"]["NAME"],
        "REDIS_URL": redis_server.url,
        "EMAIL_URL": f"smtp://127.0.0.1:{settings.EMAIL_PORT}",
        "EMAIL_TIMEOUT": "30",
        "OUTBOX_LEASE_SECONDS": "3",
        "OUTBOX_RATES": "email=0",
    }

    def start_worker():
        return subprocess.Popen(  # noqa: S603 - our own worker, loopback only
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "wechathhu",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_for(condition, seconds=60):
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)

    with celery_broker(redis_server.url):
        assert outbox.enqueue_now(RepairNotification, [r.pk for r in rows]) == 5
        worker = start_worker()
        try:
            wait_for(held.is_set)
            worker.kill()  # SIGKILL: no shutdown, no ack, the row stays "sending"
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        release.set()
        statuses = dict(RepairNotification.objects.values_list("email", "status"))
        assert statuses == {
            "u0@example.edu.cn": "sent",
            "u1@example.edu.cn": "sent",
            "u2@example.edu.cn": "sending",
            "u3@example.edu.cn": "queued",
            "u4@example.edu.cn": "queued",
        }

        settings.OUTBOX_SWEEP_GRACE_SECONDS = 0
        time.sleep(3.5)  # the dead worker's lease on the third row expires
        assert outbox.sweep() == 3
        worker = start_worker()
        try:
            wait_for(lambda: RepairNotification.objects.filter(status="sent").count() == 5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert received_addresses(smtp_server) == [f"u{i}@example.edu.cn" for i in range(5)]
    assert RepairNotification.objects.get(email="u2@example.edu.cn").attempts == 2
