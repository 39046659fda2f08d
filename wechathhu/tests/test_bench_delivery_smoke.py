"""Keeps the bench's delivery family (``bench/delivery.py``, ``--only delivery``) honest at a tiny
scale: its in-process checks on any engine, and on MariaDB + Redis the whole live run — the API
publishing through gunicorn, a real Celery worker killed mid-way and started again, the pushes
counted at the fake WeChat, the report over HTTP."""

import os
import random
import socket
from collections import Counter

import pytest
from django.conf import settings as django_settings

from bench import data, delivery, server
from bench.__main__ import render_checks
from conftest import celery_broker
from messaging.models import DeliveryPreference, DigestDelivery, Message, MessageDelivery
from official.tests.fake_wechat import FakeWeChat

USERS = 40


@pytest.fixture
def users(db):
    data.build_users({"users": USERS}, random.Random(1))
    return delivery.bench_user_ids(USERS)


def test_the_publishing_step_is_timed_and_rolled_back(users):
    [row] = [delivery.fanout_rows(30)]
    assert row["rows_written"] == 30 and row["passed"], row
    assert not Message.objects.exists() and not MessageDelivery.objects.exists()  # rolled back


def test_bind_sends_every_other_user_to_the_official_account_and_is_idempotent(users):
    first = delivery.bind(users[:10])
    assert Counter(kind for kind, _openid in first.values()) == {"template": 5, "subscribe": 5}
    assert delivery.bind(users[:10]) == first


def test_the_digest_job_check_writes_then_removes_its_rows(users):
    delivery.bind(users[:10])
    usual, busiest = delivery.digest_check(10)
    assert usual["passed"] and busiest["passed"], (usual, busiest)
    assert busiest["rows_written"] == 10 and busiest["next_minute_rows"] == 0
    assert sum(usual["rows_per_minute"]) <= 10
    assert not DigestDelivery.objects.exists() and not DeliveryPreference.objects.exists()
    assert "digest job" in render_checks([usual, busiest])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.redis
@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_the_live_run_kills_the_worker_and_counts_each_push_once(settings):
    data.build_users({"users": USERS}, random.Random(1))
    settings.OUTBOX_RATES = {"wechat_mp": 4, "wechat_oa": 4}
    fake = FakeWeChat().start()
    env = {
        **os.environ,
        **delivery.DELIVERY_ENV,
        "DEBUG": "false",
        "SECRET_KEY": "bench-smoke-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": "mysql://root@127.0.0.1:3306/" + django_settings.DATABASES["default"]["NAME"],
        "WECHAT_API_BASE_URL": fake.url,
        "WECHAT_OFFICIAL_APP_ID": delivery.DELIVERY_SETTINGS["WECHAT_OFFICIAL_APP_ID"],
        "WECHAT_OFFICIAL_APP_SECRET": delivery.DELIVERY_SETTINGS["WECHAT_OFFICIAL_APP_SECRET"],
        "WECHAT_OFFICIAL_TOKEN": delivery.DELIVERY_SETTINGS["WECHAT_OFFICIAL_TOKEN"],
        "OUTBOX_RATES": "wechat_mp=4,wechat_oa=4",
        "LOG_LEVEL": "WARNING",
    }
    try:
        with (
            celery_broker(django_settings.CELERY_BROKER_URL),
            server.stack(env, port=_free_port(), workers=1) as (base_url, worker),
        ):
            token = delivery.staff_token()
            live, message_id = delivery.live_fanout(base_url, worker, fake, token, 16)
            report = delivery.report_check(base_url, token, message_id, runs=3)
    finally:
        fake.stop()
    rows, pace, crash = live
    assert rows["rows"] == 16 and rows["wrong_channel"] == 0, rows
    assert pace["passed"], pace
    assert crash["passed"], crash
    assert (crash["doubled"], crash["missing"], crash["unexpected"]) == (0, 0, 0), crash
    assert report["reached"] == 16 - crash["interrupted"]  # a call the kill cut off is not sent again
