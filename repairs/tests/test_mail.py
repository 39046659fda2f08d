"""The new-request mail: real SMTP, local times, after the commit, a broker outage (the retries,
backoff and SMTP outages are the shared outbox's: wechathhu/tests/test_outbox.py)."""

import datetime as dt
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from repairs import services
from repairs.models import RepairNotification
from wechathhu.celery import app as celery_app
from wechathhu.core import outbox
from wechathhu.core.outbox import DeliveryStatus

from .factories import FaultCategoryFactory, RecipientFactory

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
    assert set(RepairNotification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


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

    # Still down when the periodic sweep runs: nothing lost, nothing raised.
    with time_machine.travel(start + dt.timedelta(minutes=11), tick=False):
        assert outbox.sweep() == 0

    # The broker is back (tasks run in-process again): the next sweep sends them.
    celery_app.conf.task_always_eager = True
    with time_machine.travel(start + dt.timedelta(minutes=12), tick=False):
        celery_app.tasks["outbox.sweep"].delay()
    assert outbox_recipients() == [
        ("学院办公室", "office@example.edu.cn"),
        ("王网管", "net@example.edu.cn"),
    ]
    assert not pending.filter(sent_at__isnull=True).exists()
