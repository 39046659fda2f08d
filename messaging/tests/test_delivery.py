"""WeChat subscribe-message delivery on the outbox: the second status axis, with WeChat faked at
the HTTP layer (the real wechatpy code runs)."""

import datetime as dt
import json

import pytest
import requests
import responses
import time_machine
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import WECHAT_BASE
from messaging import services
from messaging.models import MessageDelivery, MessageRecipient
from wechathhu.core import outbox
from wechathhu.core.outbox import DeliveryStatus

pytestmark = pytest.mark.django_db

LONG_TITLE = "紧急：今晚二十二点起行政楼停电检修，请提前保存工作"
SEND_URL = WECHAT_BASE + "cgi-bin/message/subscribe/send"


@pytest.fixture
def wechat(wechat_api, settings):
    settings.MESSAGING_WECHAT_TEMPLATE_ID = "TPL-1"
    settings.MESSAGING_PUSH_MIN_PRIORITY = "high"
    return wechat_api


def sent_payloads(mock):
    return [json.loads(call.request.body) for call in mock.calls if call.request.url.startswith(SEND_URL)]


def send(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return services.message_send(**kwargs)


def test_urgent_targeted_message_is_pushed_to_users_with_wechat(wechat, django_capture_on_commit_callbacks):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    bound = UserFactory(wechat_openid="openid-1")
    unbound = UserFactory()

    message = send(
        django_capture_on_commit_callbacks,
        title=LONG_TITLE,
        content="22:00-24:00",
        priority="urgent",
        recipient_ids=[bound.pk, unbound.pk],
    )

    delivery = MessageDelivery.objects.get(recipient=bound)
    assert (delivery.recipient, delivery.status, delivery.attempts) == (bound, DeliveryStatus.SENT, 1)
    # The unbound recipient is counted too: skipped, reachable on no channel.
    skipped = MessageDelivery.objects.get(recipient=unbound)
    assert (skipped.status, skipped.reason) == (DeliveryStatus.SKIPPED, "not_bound")
    assert delivery.sent_at is not None
    [payload] = sent_payloads(wechat)
    assert payload["touser"] == "openid-1" and payload["template_id"] == "TPL-1"
    assert payload["page"] == f"pages/messages/detail?id={message.pk}"
    assert payload["data"]["thing1"]["value"] == LONG_TITLE[:19] + "…"  # WeChat: 20 characters at most
    assert payload["data"]["thing2"]["value"] == "22:00-24:00"
    # Delivery does not touch engagement: the message is still unread.
    assert MessageRecipient.objects.get(message=message, recipient=bound).read_at is None


def test_a_refusal_fails_that_row_with_wechats_code(wechat, django_capture_on_commit_callbacks):
    def answer(request):
        body = json.loads(request.body)
        if body["touser"] == "no-quota":
            return 200, {}, json.dumps({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        return 200, {}, json.dumps({"errcode": 0, "errmsg": "ok"})

    wechat.add_callback("POST", SEND_URL, callback=answer)
    refused = UserFactory(wechat_openid="no-quota")
    fine = UserFactory(wechat_openid="fine")

    send(
        django_capture_on_commit_callbacks, title="提醒", priority="high", recipient_ids=[refused.pk, fine.pk]
    )

    by_user = {d.recipient_id: d for d in MessageDelivery.objects.all()}
    assert by_user[refused.pk].status == DeliveryStatus.FAILED and by_user[refused.pk].error_code == 43101
    assert by_user[fine.pk].status == DeliveryStatus.SENT and by_user[fine.pk].error_code is None


def test_unreachable_wechat_is_retried_then_recorded_as_failed(
    wechat, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    wechat.post(SEND_URL, body=requests.ConnectionError("down"))
    user = UserFactory(wechat_openid="openid-x")

    send(django_capture_on_commit_callbacks, title="提醒", priority="urgent", recipient_ids=[user.pk])

    delivery = MessageDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.reason) == (DeliveryStatus.QUEUED, 1, "unreachable")
    for hours in (1, 2):  # the sweep tries again when each retry is due
        with time_machine.travel(timezone.now() + dt.timedelta(hours=hours)):
            outbox.sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)
    assert "无法连接微信" in delivery.last_error
    assert len(sent_payloads(wechat)) == 3


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"json": {"errcode": -1, "errmsg": "system error"}}, "busy"),
        ({"json": {"errcode": 45009, "errmsg": "reach max api daily quota limit"}}, "rate_limited"),
        ({"status": 500, "body": "Internal Server Error"}, "unreachable"),
        ({"status": 502, "json": {"errcode": 0}}, "unreachable"),
        ({"body": "<html>not json</html>"}, "unreachable"),
        ({"body": requests.ReadTimeout("slow")}, "unreachable"),
    ],
    ids=["busy", "rate-limited", "http-500", "http-502", "not-json", "timeout"],
)
def test_transient_answers_are_retried_later_and_the_retry_goes_out(
    wechat, answer, reason, django_capture_on_commit_callbacks
):
    wechat.post(SEND_URL, **answer)
    user = UserFactory(wechat_openid="openid-t")
    send(django_capture_on_commit_callbacks, title="提醒", priority="urgent", recipient_ids=[user.pk])
    delivery = MessageDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.reason) == (DeliveryStatus.QUEUED, 1, reason)
    assert "微信拒绝" not in delivery.last_error

    wechat.replace(responses.POST, SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        assert outbox.sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error_code) == (DeliveryStatus.SENT, 2, None)


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_an_expired_access_token_is_fetched_again_once_and_the_send_retried(
    wechat, errcode, django_capture_on_commit_callbacks
):
    answers = iter([{"errcode": errcode, "errmsg": "access_token expired"}, {"errcode": 0, "errmsg": "ok"}])
    wechat.add_callback("POST", SEND_URL, callback=lambda request: (200, {}, json.dumps(next(answers))))
    user = UserFactory(wechat_openid="openid-token")
    send(django_capture_on_commit_callbacks, title="提醒", priority="urgent", recipient_ids=[user.pk])

    delivery = MessageDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    token_fetches = [c for c in wechat.calls if c.request.url.startswith(WECHAT_BASE + "cgi-bin/token")]
    assert len(token_fetches) == 2 and len(sent_payloads(wechat)) == 2


def test_a_token_refused_even_when_fresh_is_not_fetched_in_a_loop(wechat, django_capture_on_commit_callbacks):
    wechat.post(SEND_URL, json={"errcode": 40001, "errmsg": "invalid credential"})
    user = UserFactory(wechat_openid="openid-loop")
    send(django_capture_on_commit_callbacks, title="提醒", priority="urgent", recipient_ids=[user.pk])
    delivery = MessageDelivery.objects.get()
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.QUEUED, 40001)  # retried later
    assert len(sent_payloads(wechat)) == 2  # the call and one retry with a fresh token, no more


@pytest.mark.parametrize("errcode", [43101, 43004, 47003, 40003])
def test_permanent_refusals_fail_at_once_with_wechats_code(
    wechat, errcode, django_capture_on_commit_callbacks
):
    wechat.post(SEND_URL, json={"errcode": errcode, "errmsg": "refused"})
    user = UserFactory(wechat_openid="openid-p")
    send(django_capture_on_commit_callbacks, title="提醒", priority="urgent", recipient_ids=[user.pk])
    delivery = MessageDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error_code) == (DeliveryStatus.FAILED, 1, errcode)
    assert delivery.next_attempt_at is None


def test_delivery_is_sent_once(wechat, django_capture_on_commit_callbacks):
    wechat.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    user = UserFactory(wechat_openid="openid-once")
    message = send(
        django_capture_on_commit_callbacks, title="提醒", priority="urgent", recipient_ids=[user.pk]
    )
    assert outbox.deliver(MessageDelivery._meta.label, [MessageDelivery.objects.get().pk]) == {"not_ours": 1}
    assert services.message_publish(message_id=message.pk) is False
    assert len(sent_payloads(wechat)) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"priority": "normal"}, {"priority": "urgent", "is_global": True}],
    ids=["below-min-priority", "global"],
)
def test_low_priority_and_global_messages_are_not_pushed(wechat, django_capture_on_commit_callbacks, kwargs):
    user = UserFactory(wechat_openid="openid-n")
    recipients = {} if kwargs.get("is_global") else {"recipient_ids": [user.pk]}
    send(django_capture_on_commit_callbacks, title="通知", **kwargs, **recipients)
    assert not MessageDelivery.objects.exists()
    assert sent_payloads(wechat) == []


def test_nothing_is_queued_without_a_template(settings, django_capture_on_commit_callbacks):
    settings.MESSAGING_WECHAT_TEMPLATE_ID = ""
    user = UserFactory(wechat_openid="openid-t")
    send(django_capture_on_commit_callbacks, title="通知", priority="urgent", recipient_ids=[user.pk])
    assert not MessageDelivery.objects.exists()


def test_withdrawn_before_delivery_is_not_sent(wechat):
    user = UserFactory(wechat_openid="openid-w")
    message = services.message_send(title="撤回", priority="urgent", recipient_ids=[user.pk])
    services.message_publish(message_id=message.pk)  # queues (on_commit not run here)
    services.message_withdraw(message=message)

    delivery = MessageDelivery.objects.get()
    assert outbox.deliver(MessageDelivery._meta.label, [delivery.pk]) == {"skipped": 1}

    delivery.refresh_from_db()
    assert (delivery.status, delivery.reason, delivery.last_error) == (
        DeliveryStatus.SKIPPED,
        "withdrawn",
        "消息已撤回，未发送。",
    )
    assert sent_payloads(wechat) == []
