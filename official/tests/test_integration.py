"""The protocol client (``wechathhu.integrations.official``) against the fake WeChat server: one
token shared by every process, errors as the other senders see them."""

import threading

import pytest

from wechathhu.integrations import official

pytestmark = pytest.mark.django_db


def test_the_token_is_shared_between_clients(official_account):
    """Two clients (two workers) fetch the token once: it lives in the shared cache."""
    official.send_text(openid="oA", content="一")
    official.send_text(openid="oB", content="二")
    assert official_account.token_fetches == 1
    assert len(official_account.custom) == 2


def test_concurrent_workers_finding_no_token_fetch_it_once(official_account):
    errors = []

    def send(n):
        try:
            official.send_text(openid=f"o{n}", content="并发")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert official_account.token_fetches == 1
    assert len(official_account.custom) == 6


def test_an_expired_token_is_fetched_again(official_account):
    official.send_text(openid="oA", content="一")
    official_account.expire_token()  # WeChat answers 40001 to the cached token
    official.send_text(openid="oA", content="二")
    assert official_account.token_fetches == 2
    assert len(official_account.custom) == 2


def test_a_refusal_carries_wechats_errcode(official_account):
    official_account.refuse_openid["oGone"] = (43004, "require subscribe")
    with pytest.raises(official.WeChatError) as info:
        official.send_template_message(openid="oGone", template_id="T", data={"thing1": "x"})
    assert info.value.errcode == 43004
    assert not isinstance(info.value, official.WeChatUnavailable)


def test_http_errors_and_an_unreachable_server_are_unavailable(official_account, settings):
    official_account.fail_http["/cgi-bin/message/custom/send"] = 502
    with pytest.raises(official.WeChatUnavailable):
        official.send_text(openid="oA", content="x")
    settings.WECHAT_API_BASE_URL = "http://127.0.0.1:9/"  # nothing listens on the discard port
    with pytest.raises(official.WeChatUnavailable):
        official.send_text(openid="oA", content="x")


def test_template_messages_wrap_values_and_return_the_msgid(official_account):
    msgid = official.send_template_message(
        openid="oA",
        template_id="TPL",
        data={"thing1": "会议", "time2": {"value": "10:00", "color": "#f00"}},
        url="https://example.edu.cn/m/messages/1/",
    )
    assert msgid == 1_000_001
    [sent] = official_account.templates
    assert sent["data"] == {"thing1": {"value": "会议"}, "time2": {"value": "10:00", "color": "#f00"}}
    assert sent["url"] == "https://example.edu.cn/m/messages/1/"


def test_everything_is_off_without_an_account(settings):
    settings.WECHAT_OFFICIAL_ENABLED = False
    with pytest.raises(official.OfficialDisabled) as info:
        official.send_text(openid="oA", content="x")
    assert "WECHAT_OFFICIAL_APP_ID" in str(info.value)


def test_template_send_results_come_from_wechats_reports(client, official_account):
    from official.selectors import template_send_statuses
    from official.tests import wechat_side as wx

    msgid = official.send_template_message(openid="oFAKE00000000000000000000001", template_id="T", data={})
    side = wx.WeChatSide(client)
    side.post(
        wx.event(
            "oFAKE00000000000000000000001", "TEMPLATESENDJOBFINISH", MsgID=msgid, Status="failed:user block"
        )
    )
    assert template_send_statuses(msgids=[msgid, 42]) == {msgid: "failed:user block"}
