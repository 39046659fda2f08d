"""The customer-service inbox: threads, the 48-hour rule, replies of every type through the
outbox, the template fallback, and the admin's conversation page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from official import services
from official.models import InboxThread, ServiceMessage, ThreadStatus
from official.services import inbox
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, InboxThreadFactory, openid
from wechathhu.core.errors import ApplicationError

pytestmark = pytest.mark.django_db

PAYLOADS = {
    "text": {"content": "您好，奖学金下周发放。"},
    "image": {"media_id": "IMG-1"},
    "voice": {"media_id": "VOICE-1"},
    "video": {"media_id": "VIDEO-1", "title": "入学指南", "description": "三分钟看懂"},
    "music": {"url": "https://example.edu.cn/song.mp3", "thumb_media_id": "THUMB-1", "title": "校歌"},
    "news": {"title": "奖学金公示", "url": "https://example.edu.cn/news/1", "description": "名单"},
}
WIRE = {  # what WeChat receives for each kind (customer-service API's msgtype and body key)
    "text": ("text", "content", "您好，奖学金下周发放。"),
    "image": ("image", "media_id", "IMG-1"),
    "voice": ("voice", "media_id", "VOICE-1"),
    "video": ("video", "media_id", "VIDEO-1"),
    "music": ("music", "musicurl", "https://example.edu.cn/song.mp3"),
    "news": ("news", "articles", None),
}


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True, kind="staff")


def thread_with_window(hours_ago: float) -> InboxThread:
    follower = BoundFollowerFactory(last_message_at=timezone.now() - dt.timedelta(hours=hours_ago))
    return InboxThreadFactory(follower=follower)


@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_a_reply_of_every_type_is_sent_through_the_outbox(
    kind, staff, official_account, django_capture_on_commit_callbacks
):
    thread = thread_with_window(hours_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.inbox_reply(thread=thread, kind=kind, payload=PAYLOADS[kind], by=staff)
    message.refresh_from_db()
    assert message.status == "sent", message.last_error
    [sent] = official_account.custom
    msgtype, key, value = WIRE[kind]
    assert sent["touser"] == thread.follower.openid and sent["msgtype"] == msgtype
    if value is not None:
        assert sent[msgtype][key] == value
    else:
        assert sent["news"]["articles"][0]["url"] == "https://example.edu.cn/news/1"
    thread.refresh_from_db()
    assert thread.last_reply_at is not None and thread.unread == 0


def test_a_reply_missing_what_its_type_needs_is_refused(staff, official_account):
    thread = thread_with_window(hours_ago=1)
    with pytest.raises(ApplicationError) as info:
        services.inbox_reply(thread=thread, kind="news", payload={"title": "没有链接"}, by=staff)
    assert info.value.field == "url"
    assert not ServiceMessage.objects.exists()


def test_the_48_hour_rule_refuses_a_reply_after_the_window(staff, official_account):
    thread = thread_with_window(hours_ago=49)
    with pytest.raises(ApplicationError) as info:
        services.inbox_reply(thread=thread, kind="text", payload={"content": "晚了"}, by=staff)
    assert "48小时" in info.value.message
    assert not ServiceMessage.objects.exists() and official_account.custom == []


def test_the_window_is_measured_from_the_followers_last_message(staff, official_account):
    thread = thread_with_window(hours_ago=47.9)
    services.inbox_reply(thread=thread, kind="text", payload={"content": "还来得及"}, by=staff)
    assert ServiceMessage.objects.count() == 1


def test_wechat_refusing_with_45015_is_a_permanent_failure_with_its_reason(
    staff, official_account, django_capture_on_commit_callbacks
):
    thread = thread_with_window(hours_ago=1)
    official_account.refuse_openid[thread.follower.openid] = (45015, "response out of time limit")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.inbox_reply(thread=thread, kind="text", payload={"content": "你好"}, by=staff)
    message.refresh_from_db()
    assert (message.status, message.error_code, message.reason) == ("failed", 45015, "window_closed")
    assert message.attempts == 1  # not retried
    assert "48小时" in message.last_error


def test_outside_the_window_a_template_message_is_offered(
    staff, official_account, settings, django_capture_on_commit_callbacks
):
    settings.WECHAT_OFFICIAL_REPLY_TEMPLATE_ID = "TPL-REPLY"
    thread = thread_with_window(hours_ago=72)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.inbox_reply_template(
            thread=thread, title="咨询回复", content="奖学金下周发放", by=staff
        )
    message.refresh_from_db()
    assert message.status == "sent" and message.msgid == 1_000_001
    [sent] = official_account.templates
    assert sent["template_id"] == "TPL-REPLY"
    assert sent["data"]["thing1"] == {"value": "咨询回复"} and sent["data"]["thing2"] == {
        "value": "奖学金下周发放"
    }


def test_without_a_template_configured_the_fallback_says_so(staff, settings):
    settings.WECHAT_OFFICIAL_REPLY_TEMPLATE_ID = ""
    with pytest.raises(ApplicationError) as info:
        services.inbox_reply_template(
            thread=thread_with_window(hours_ago=72), title="t", content="c", by=staff
        )
    assert "WECHAT_OFFICIAL_REPLY_TEMPLATE_ID" in info.value.message


def test_no_reply_to_a_follower_who_left(staff):
    thread = thread_with_window(hours_ago=1)
    thread.follower.subscribed = False
    thread.follower.save()
    with pytest.raises(ApplicationError):
        services.inbox_reply(thread=thread, kind="text", payload={"content": "x"}, by=staff)


def test_closing_and_reopening_a_thread_and_a_new_message_reopening_it(client, official_account, staff):
    side = wx.WeChatSide(client)
    side.post(wx.text(openid(1), "有人吗"))
    thread = InboxThread.objects.get()
    inbox.thread_set_status(thread_ids=[thread.pk], status=ThreadStatus.CLOSED)
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.CLOSED and thread.unread == 0 and thread.closed_at
    response = side.post(wx.text(openid(1), "又有问题了"))
    assert "工作人员" in side.reply(response)  # acknowledged again: a new conversation
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN and thread.unread == 1


def test_assigning_only_to_staff(staff):
    thread = thread_with_window(hours_ago=1)
    with pytest.raises(ApplicationError):
        inbox.thread_assign(thread_ids=[thread.pk], assignee=UserFactory())
    assert inbox.thread_assign(thread_ids=[thread.pk], assignee=staff) == 1


# --- The admin's conversation page --------------------------------------------------------------------


def test_the_conversation_page_shows_the_window_and_marks_the_thread_read(client, official_account, staff):
    wx.WeChatSide(client).post(wx.text(openid(2), "宿舍的网络坏了"))
    thread = InboxThread.objects.get()
    client.force_login(staff)
    response = client.get(reverse("admin:official_inboxthread_change", args=[thread.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "宿舍的网络坏了" in page and "开放" in page and "剩余 47 小时" in page
    thread.refresh_from_db()
    assert thread.unread == 0


def test_replying_from_the_conversation_page(
    client, official_account, staff, django_capture_on_commit_callbacks
):
    wx.WeChatSide(client).post(wx.text(openid(3), "请问图书馆几点关门"))
    thread = InboxThread.objects.get()
    client.force_login(staff)
    url = reverse("admin:official_inboxthread_change", args=[thread.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"op": "reply", "reply-kind": "text", "reply-content": "晚上十点。"})
    assert response.status_code == 302
    assert official_account.custom[0]["text"]["content"] == "晚上十点。"
    page = client.get(url).content.decode()
    assert "晚上十点。" in page and "已发送" in page


def test_the_page_shows_the_services_error_on_the_field(client, official_account, staff):
    wx.WeChatSide(client).post(wx.text(openid(4), "你好"))
    thread = InboxThread.objects.get()
    client.force_login(staff)
    url = reverse("admin:official_inboxthread_change", args=[thread.pk])
    response = client.post(url, {"op": "reply", "reply-kind": "image"})
    assert response.status_code == 200
    assert "请填写此项" in response.content.decode()
    assert not ServiceMessage.objects.exists()


def test_outside_the_window_the_page_offers_only_the_template(client, settings, staff):
    settings.WECHAT_OFFICIAL_REPLY_TEMPLATE_ID = "TPL"
    thread = thread_with_window(hours_ago=60)
    client.force_login(staff)
    page = client.get(reverse("admin:official_inboxthread_change", args=[thread.pk])).content.decode()
    assert "已关闭" in page and "以模板消息发送" in page and 'value="reply"' not in page


def test_staff_who_may_only_view_cannot_reply(client, staff):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True, kind="staff")
    viewer.user_permissions.add(Permission.objects.get(codename="view_inboxthread"))
    thread = thread_with_window(hours_ago=1)
    client.force_login(viewer)
    url = reverse("admin:official_inboxthread_change", args=[thread.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"op": "reply", "reply-kind": "text", "reply-content": "x"}).status_code == 403
    assert not ServiceMessage.objects.exists()
