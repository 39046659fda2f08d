"""The delivery rules (issue 13): which channel carries a message to whom and when, read-aware
reminders, the delivery report and its exports, pushes that are not messages.

WeChat is faked at the HTTP layer (the real wechatpy code runs); e-mail goes to Django's locmem
outbox, and once through a real SMTP server."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from responses import matchers

from accounts.tests.factories import UserFactory
from conftest import WECHAT_BASE
from messaging import delivery, services
from messaging.delivery_report import message_delivery_report, message_delivery_report_for_sender
from messaging.models import DeliveryKind, MessageDelivery, MessageRecipient, PushDelivery
from messaging.preferences import delivery_preferences_update
from messaging.tasks import message_send_reminders_task
from messaging.tests.factories import CategoryFactory
from wechathhu.core import outbox
from wechathhu.core.errors import NotFoundError
from wechathhu.core.outbox import DeliveryStatus

pytestmark = pytest.mark.django_db
SEND_URL = WECHAT_BASE + "cgi-bin/message/subscribe/send"
UTC = dt.UTC
# 10:00 in Beijing.
MORNING = dt.datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def channels(wechat_api, settings):
    """Mini-program pushes and e-mail on; WeChat accepts every push."""
    settings.MESSAGING_WECHAT_TEMPLATE_ID = "TPL-1"
    settings.MESSAGING_PUSH_CHANNELS = ["wechat", "wechat_oa", "email"]
    wechat_api.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    return wechat_api


def pushed_openids(mock):
    return [json.loads(c.request.body)["touser"] for c in mock.calls if c.request.url.startswith(SEND_URL)]


def mailed():
    return sorted(address for m in mail.outbox for address in m.to)


def send(capture, *, at=MORNING, **kwargs):
    kwargs.setdefault("title", "教务通知")
    with time_machine.travel(at, tick=False), capture(execute=True):
        return services.message_send(**kwargs)


def rows(message, **filters):
    return {
        (d.recipient_id, d.channel): (d.status, d.reason)
        for d in MessageDelivery.objects.filter(message=message, **filters)
    }


# --- Which channel ----------------------------------------------------------------------------------


def test_urgent_goes_through_every_channel_the_user_has_whatever_their_hours_and_follows(
    channels, django_capture_on_commit_callbacks
):
    category = CategoryFactory(name="后勤")
    user = UserFactory(wechat_openid="mp-1", email="a@example.edu.cn")
    delivery_preferences_update(
        user=user,
        data={
            "quiet_hours_start": dt.time(8),
            "quiet_hours_end": dt.time(12),
            "muted_category_ids": [category.pk],
        },
    )
    message = send(
        django_capture_on_commit_callbacks,
        priority="urgent",
        category_id=category.pk,
        recipient_ids=[user.pk],
    )
    assert rows(message) == {
        (user.pk, "wechat"): (DeliveryStatus.SENT, ""),
        (user.pk, "email"): (DeliveryStatus.SENT, ""),
    }
    assert pushed_openids(channels) == ["mp-1"] and mailed() == ["a@example.edu.cn"]


def test_others_go_through_the_preferred_channel_only(channels, django_capture_on_commit_callbacks):
    wechat_first = UserFactory(wechat_openid="mp-w", email="w@example.edu.cn")
    email_first = UserFactory(wechat_openid="mp-e", email="e@example.edu.cn")
    delivery_preferences_update(user=email_first, data={"preferred_channel": "email"})
    message = send(django_capture_on_commit_callbacks, recipient_ids=[wechat_first.pk, email_first.pk])
    assert rows(message) == {
        (wechat_first.pk, "wechat"): (DeliveryStatus.SENT, ""),
        (email_first.pk, "email"): (DeliveryStatus.SENT, ""),
    }
    assert pushed_openids(channels) == ["mp-w"] and mailed() == ["e@example.edu.cn"]


def test_a_user_without_their_preferred_channel_is_reached_on_another(
    channels, django_capture_on_commit_callbacks
):
    mail_only = UserFactory(email="m@example.edu.cn")  # prefers WeChat (the default) but has none
    message = send(django_capture_on_commit_callbacks, recipient_ids=[mail_only.pk])
    assert rows(message) == {(mail_only.pk, "email"): (DeliveryStatus.SENT, "")}


def test_unreachable_and_unfollowing_recipients_are_skipped_with_their_reason(
    channels, django_capture_on_commit_callbacks
):
    category = CategoryFactory(name="就业")
    nowhere = UserFactory(email="")
    unfollowing = UserFactory(wechat_openid="mp-u")
    delivery_preferences_update(user=unfollowing, data={"muted_category_ids": [category.pk]})
    message = send(
        django_capture_on_commit_callbacks,
        category_id=category.pk,
        recipient_ids=[nowhere.pk, unfollowing.pk],
    )
    assert rows(message) == {
        (nowhere.pk, "wechat"): (DeliveryStatus.SKIPPED, "not_bound"),
        (unfollowing.pk, "wechat"): (DeliveryStatus.SKIPPED, "unfollowed"),
    }
    assert pushed_openids(channels) == [] and mail.outbox == []


def test_low_priority_and_global_messages_stay_in_app(channels, django_capture_on_commit_callbacks):
    user = UserFactory(wechat_openid="mp-l")
    send(django_capture_on_commit_callbacks, priority="low", recipient_ids=[user.pk])
    send(django_capture_on_commit_callbacks, priority="urgent", is_global=True)
    assert not MessageDelivery.objects.exists() and pushed_openids(channels) == []


def test_quiet_hours_hold_a_push_until_they_end_and_then_it_goes_out(
    channels, django_capture_on_commit_callbacks
):
    user = UserFactory(wechat_openid="mp-q")
    # 22:00–07:00 Beijing; the message is sent at 23:30.
    delivery_preferences_update(
        user=user, data={"quiet_hours_start": dt.time(22), "quiet_hours_end": dt.time(7)}
    )
    late = dt.datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    message = send(django_capture_on_commit_callbacks, at=late, recipient_ids=[user.pk])
    held = MessageDelivery.objects.get(message=message)
    assert (held.status, held.reason) == (DeliveryStatus.QUEUED, "quiet_hours")
    assert held.next_attempt_at == dt.datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 07:00 Beijing
    assert pushed_openids(channels) == []

    with time_machine.travel(dt.datetime(2026, 12, 7, 22, 59, tzinfo=UTC), tick=False):
        assert outbox.sweep() == 0
    with time_machine.travel(dt.datetime(2026, 12, 7, 23, 3, tzinfo=UTC), tick=False):
        assert outbox.sweep() == 1
    held.refresh_from_db()
    assert held.status == DeliveryStatus.SENT and pushed_openids(channels) == ["mp-q"]


def test_a_message_read_before_its_push_goes_out_is_not_pushed(channels, django_capture_on_commit_callbacks):
    user = UserFactory(wechat_openid="mp-r")
    delivery_preferences_update(
        user=user, data={"quiet_hours_start": dt.time(9), "quiet_hours_end": dt.time(11)}
    )
    message = send(django_capture_on_commit_callbacks, recipient_ids=[user.pk])  # 10:00: held
    services.message_mark_read(user=user, message_ids=[message.pk])
    with time_machine.travel(MORNING + dt.timedelta(hours=2), tick=False):
        outbox.sweep()
    assert rows(message) == {(user.pk, "wechat"): (DeliveryStatus.SKIPPED, "read")}
    assert pushed_openids(channels) == []


def test_no_channel_configured_writes_no_rows(settings, django_capture_on_commit_callbacks):
    settings.MESSAGING_PUSH_CHANNELS = []
    user = UserFactory(wechat_openid="mp-none")
    message = send(django_capture_on_commit_callbacks, priority="urgent", recipient_ids=[user.pk])
    assert not MessageDelivery.objects.filter(message=message).exists()


def test_a_mail_push_reaches_a_real_smtp_server(smtp_server, settings, django_capture_on_commit_callbacks):
    settings.MESSAGING_PUSH_CHANNELS = ["email"]
    settings.SITE_URL = "https://portal.example.edu.cn"
    user = UserFactory(email="teacher@example.edu.cn")
    message = send(
        django_capture_on_commit_callbacks,
        title="期末监考安排",
        content="请查看附件",
        recipient_ids=[user.pk],
    )
    [received] = smtp_server.messages
    assert received["To"] == "teacher@example.edu.cn"
    body = received.get_payload(decode=True).decode(received.get_content_charset())
    assert "请查看附件" in body and f"https://portal.example.edu.cn/m/messages/{message.pk}/" in body


# --- Reminders ---------------------------------------------------------------------------------------


def test_a_reminder_goes_only_to_those_who_have_not_read_after_the_hours(
    channels, django_capture_on_commit_callbacks
):
    reader, forgetful = UserFactory(wechat_openid="mp-reader"), UserFactory(wechat_openid="mp-forgetful")
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        message = services.message_create(
            sender=UserFactory(is_staff=True, kind="staff"),
            title="请填写问卷",
            recipient_ids=[reader.pk, forgetful.pk],
            remind_unread_after_hours=2,
        )
    services.message_mark_read(user=reader, message_ids=[message.pk])
    assert message.remind_at == MORNING + dt.timedelta(hours=2)

    with time_machine.travel(MORNING + dt.timedelta(hours=1, minutes=59), tick=False):
        assert message_send_reminders_task.apply().get() == 0
    with (
        time_machine.travel(MORNING + dt.timedelta(hours=2, minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert message_send_reminders_task.apply().get() == 1
        assert message_send_reminders_task.apply().get() == 0  # once
    assert rows(message, kind=DeliveryKind.REMINDER) == {(forgetful.pk, "wechat"): (DeliveryStatus.SENT, "")}
    assert sorted(pushed_openids(channels)) == ["mp-forgetful", "mp-forgetful", "mp-reader"]


def test_a_withdrawn_message_gets_no_reminder_and_global_ones_cannot_ask_for_one(
    channels, django_capture_on_commit_callbacks
):
    user = UserFactory(wechat_openid="mp-w2")
    sender = UserFactory(is_staff=True, is_superuser=True, kind="staff")
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        message = services.message_create(
            sender=sender, title="x", recipient_ids=[user.pk], remind_unread_after_hours=1
        )
        services.message_withdraw(message=message)
    with time_machine.travel(MORNING + dt.timedelta(hours=3), tick=False):
        assert message_send_reminders_task.apply().get() == 0
    with pytest.raises(services.ApplicationError, match="全局消息不支持未读再提醒"):
        services.message_create(sender=sender, title="y", is_global=True, remind_unread_after_hours=1)


def test_reminder_hours_are_sent_and_refused_through_the_api(make_client, channels):
    sender = UserFactory(is_staff=True, kind="staff")
    user = UserFactory()
    client = make_client(sender, keyword="Bearer")
    url = reverse("messaging:admin-message-list")
    body = {"title": "t", "type": "notification", "priority": "normal", "recipient_ids": [user.pk]}
    created = client.post(url, {**body, "remind_unread_after_hours": 24}, format="json")
    assert created.status_code == 201 and created.json()["data"]["remind_unread_after_hours"] == 24
    for absurd in (0, 10_000, "1e9", -1):
        answer = client.post(url, {**body, "remind_unread_after_hours": absurd}, format="json")
        assert answer.status_code == 400, absurd


# --- The report ------------------------------------------------------------------------------------------


@pytest.fixture
def reported(channels, django_capture_on_commit_callbacks):
    """A message to five people: two pushed, one refused by WeChat, one unreachable, one who reads it."""
    channels.replace(
        "POST",
        SEND_URL,
        json={"errcode": 43101, "errmsg": "user refuse to accept the msg"},
        match=[matchers.json_params_matcher({"touser": "mp-no"}, strict_match=False)],
    )
    channels.add("POST", SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    sender = UserFactory(is_staff=True, kind="staff")
    users = [
        UserFactory(wechat_openid="mp-a", username="T9001"),
        UserFactory(wechat_openid="mp-b", username="T9002"),
        UserFactory(wechat_openid="mp-no", username="T9003", phone="13900000003"),
        UserFactory(email="", username="T9004"),
        UserFactory(wechat_openid="mp-c", username="T9005"),
    ]
    message = send(django_capture_on_commit_callbacks, sender=sender, recipient_ids=[u.pk for u in users])
    services.message_mark_read(user=users[4], message_ids=[message.pk])
    return message, sender, users


def test_the_report_figures_equal_the_rows(reported):
    message, _sender, users = reported
    report = message_delivery_report(message=message)
    assert (report.audience_size, report.read, report.reached, report.failed) == (5, 1, 3, 1)
    assert report.read_rate == pytest.approx(0.2)
    [wechat] = report.channels
    assert (wechat.channel, wechat.total, wechat.sent, wechat.failed, wechat.skipped) == (
        "wechat",
        5,
        3,
        1,
        1,
    )
    assert wechat.failed_by_reason == {"no_consent": 1} and wechat.skipped_by_reason == {"not_bound": 1}
    by_status = outbox.status_counts(MessageDelivery.objects.filter(message=message))
    assert (by_status["sent"], by_status["failed"], by_status["skipped"]) == (3, 1, 1)


def test_the_report_over_the_api_for_its_sender_only(reported, make_client):
    message, sender, _users = reported
    url = reverse("messaging:admin-message-delivery", args=[message.pk])
    answer = make_client(sender, keyword="Bearer").get(url)
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data["audience_size"] == 5 and data["reached"] == 3 and data["read"] == 1
    assert data["channels"][0]["failed_by_reason"] == {"no_consent": 1}
    other_sender = UserFactory(is_staff=True, kind="staff")
    assert make_client(other_sender).get(url).status_code == 404


def test_the_reports_query_count_does_not_grow_with_its_rows(channels, django_capture_on_commit_callbacks):
    small = send(django_capture_on_commit_callbacks, recipient_ids=[UserFactory(wechat_openid="mp-s").pk])
    big = send(
        django_capture_on_commit_callbacks,
        recipient_ids=[UserFactory(wechat_openid=f"mp-{i}").pk for i in range(12)],
    )
    with CaptureQueriesContext(connection) as one:
        message_delivery_report(message=small)
    with CaptureQueriesContext(connection) as many:
        message_delivery_report(message=big)
    assert len(one) == len(many)


def test_the_report_is_two_statements_read_from_its_index_and_equals_the_rows(
    channels, django_capture_on_commit_callbacks, settings
):
    """An urgent message reaches a recipient on several channels (reached counts people, not
    rows); the report for its sender is the message with its scalar figures, then one GROUP BY,
    and a third query only for a message the official account mass-sent."""
    from official.tests.factories import MassSendFactory

    sender = UserFactory(is_staff=True, kind="staff")
    both = UserFactory(wechat_openid="mp-u1", email="u1@example.edu.cn")
    mail_only = UserFactory(email="u2@example.edu.cn")
    nobody = UserFactory(email="")
    message = send(
        django_capture_on_commit_callbacks,
        sender=sender,
        priority="urgent",
        recipient_ids=[both.pk, mail_only.pk, nobody.pk],
    )
    services.message_mark_read(user=mail_only, message_ids=[message.pk])
    deliveries = MessageDelivery.objects.filter(message=message)
    sent_to = set(deliveries.filter(kind="initial", status="sent").values_list("recipient_id", flat=True))
    assert (
        sent_to == {both.pk, mail_only.pk} and deliveries.filter(recipient=both, status="sent").count() == 2
    )

    message_delivery_report_for_sender(user=sender, message_id=message.pk)  # the sender's permissions read
    with CaptureQueriesContext(connection) as queries:
        report = message_delivery_report_for_sender(user=sender, message_id=message.pk)
    assert len(queries) == 2
    assert (report.audience_size, report.reached, report.read, report.mass_send) == (3, 2, 1, None)
    by_channel = {c.channel: (c.total, c.sent, c.skipped, c.skipped_by_reason) for c in report.channels}
    expected = {}
    for channel in deliveries.values_list("channel", flat=True).distinct():
        of = deliveries.filter(channel=channel)
        skipped = of.filter(status="skipped")
        expected[channel] = (
            of.count(),
            of.filter(status="sent").count(),
            skipped.count(),
            {r: skipped.filter(reason=r).count() for r in set(skipped.values_list("reason", flat=True))},
        )
    assert by_channel == expected

    MassSendFactory(
        message=message, status="sent", total_count=3, filter_count=3, sent_count=2, error_count=1
    )
    with CaptureQueriesContext(connection) as queries:
        report = message_delivery_report_for_sender(user=sender, message_id=message.pk)
    assert len(queries) == 3 and report.mass_send["sent"] == 2
    with pytest.raises(NotFoundError):
        message_delivery_report_for_sender(
            user=UserFactory(is_staff=True, kind="staff"), message_id=message.pk
        )


def test_the_admin_report_page_retries_the_failed_and_exports_who_to_call(
    reported, admin_client, channels, django_capture_on_commit_callbacks
):
    message, _sender, users = reported
    url = reverse("admin:messaging_message_delivery", args=[message.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "受众人数" in text and "未授权订阅消息（43101）" in text and "未绑定推送渠道" in text

    workbook = load_workbook(io.BytesIO(admin_client.get(url, {"export": "xlsx"}).content))
    sheet = workbook.active
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0][:2] == ["工号/学号", "姓名"]
    assert sorted(row[0] for row in table[1:]) == ["T9003", "T9004"]  # the refused and the unreachable
    assert next(row for row in table[1:] if row[0] == "T9003")[3] == "13900000003"
    csv_text = admin_client.get(url, {"export": "csv"}).content.decode("utf-8-sig")
    assert "T9003" in csv_text and "T9004" in csv_text and "T9001" not in csv_text

    channels.replace("POST", SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, follow=True)
    assert "已重新排队 1 条发送失败的投递。" in response.content.decode()
    refused = MessageDelivery.objects.get(message=message, recipient__username="T9003")
    assert (refused.status, refused.attempts) == (DeliveryStatus.SENT, 1)


def test_the_message_change_page_links_to_its_report(reported, admin_client):
    message, _sender, _users = reported
    page = admin_client.get(reverse("admin:messaging_message_change", args=[message.pk]))
    assert reverse("admin:messaging_message_delivery", args=[message.pk]) in page.content.decode()


# --- Pushes that are not messages ----------------------------------------------------------------------


def test_notify_user_pushes_once_per_key(channels, django_capture_on_commit_callbacks):
    user = UserFactory(wechat_openid="mp-chat")
    for _ in range(3):  # a burst sharing one key
        with django_capture_on_commit_callbacks(execute=True):
            delivery.notify_user(
                user_id=user.pk, title="新消息", body="张三：在吗", url="/m/c/1/", key="conv:1:u:1:0"
            )
    with django_capture_on_commit_callbacks(execute=True):
        delivery.notify_user(
            user_id=user.pk, title="新消息", body="张三：？", url="/m/c/1/", key="conv:1:u:1:5"
        )
    assert PushDelivery.objects.count() == 2
    assert set(PushDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert pushed_openids(channels) == ["mp-chat", "mp-chat"]


def test_notify_user_follows_the_same_rules(channels, django_capture_on_commit_callbacks):
    quiet = UserFactory(wechat_openid="mp-quiet")
    delivery_preferences_update(
        user=quiet, data={"quiet_hours_start": dt.time(9), "quiet_hours_end": dt.time(11)}
    )
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        [row] = delivery.notify_user(user_id=quiet.pk, title="t", body="b", url="/m/", key="k1")
    assert (row.status, row.reason) == (DeliveryStatus.QUEUED, "quiet_hours")
    assert pushed_openids(channels) == []


def test_the_recipient_rows_are_never_touched_by_delivery(channels, django_capture_on_commit_callbacks):
    user = UserFactory(wechat_openid="mp-e")
    message = send(django_capture_on_commit_callbacks, recipient_ids=[user.pk])
    state = MessageRecipient.objects.get(message=message, recipient=user)
    assert state.read_at is None and state.archived_at is None  # engagement and delivery stay apart
    assert timezone.now() >= message.published_at
