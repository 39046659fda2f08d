"""The webhook as WeChat uses it: signed requests in plain and safe mode, refusals that touch
nothing, and WeChat's retries having their effect once."""

import time

import pytest
import xmltodict
from django.urls import reverse

from official.models import Follower, Handling, InboundMessage
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, openid
from official.tests.wechat_side import OFFICIAL_AES_KEY

pytestmark = pytest.mark.django_db

MODES = ["plain", "safe"]


@pytest.fixture(params=MODES)
def side(request, client, settings, official_account):
    safe = request.param == "safe"
    if safe:
        settings.WECHAT_OFFICIAL_ENCODING_AES_KEY = OFFICIAL_AES_KEY
    return wx.WeChatSide(client, safe=safe)


def reply_of(side, response) -> dict:
    assert response.status_code == 200, response.content
    return xmltodict.parse(side.reply(response))["xml"]


# --- URL verification ---------------------------------------------------------------------------


def test_url_verification_echoes_echostr_when_signed(client, official_account):
    response = wx.WeChatSide(client).verify("echo-2026")
    assert response.status_code == 200
    assert response.content == b"echo-2026"


def test_url_verification_is_the_same_in_safe_mode(client, settings, official_account):
    settings.WECHAT_OFFICIAL_ENCODING_AES_KEY = OFFICIAL_AES_KEY
    assert wx.WeChatSide(client, safe=True).verify("abc").content == b"abc"


def test_url_verification_refuses_a_wrong_token(client, official_account):
    response = wx.WeChatSide(client, token="not-our-token").verify("echo")
    assert response.status_code == 403
    assert b"echo" not in response.content


# --- Answers --------------------------------------------------------------------------------------


def test_help_answers_an_unbound_follower_with_the_bind_link(side):
    response = side.post(wx.text(openid(1), "帮助"))
    reply = reply_of(side, response)
    assert reply["MsgType"] == "text"
    assert reply["ToUserName"] == openid(1)
    assert reply["FromUserName"] == wx.ACCOUNT
    assert reverse("official:oauth-start") in reply["Content"]
    follower = Follower.objects.get(openid=openid(1))
    assert follower.user is None and follower.last_message_at is not None


def test_subscribe_records_the_follower_and_welcomes_with_the_bind_link(side):
    response = side.post(wx.event(openid(2), "subscribe", key=""))
    reply = reply_of(side, response)
    assert "欢迎关注" in reply["Content"]
    assert reverse("official:oauth-start") in reply["Content"]
    follower = Follower.objects.get(openid=openid(2))
    assert follower.subscribed and follower.subscribed_at is not None


def test_unsubscribe_keeps_the_binding_but_stops_following(side):
    follower = BoundFollowerFactory(openid=openid(3))
    response = side.post(wx.event(openid(3), "unsubscribe"))
    assert response.status_code == 200 and response.content == b"success"
    follower.refresh_from_db()
    assert not follower.subscribed and follower.unsubscribed_at is not None
    assert follower.user_id is not None


def test_a_bound_follower_is_welcomed_back_by_name(side):
    follower = BoundFollowerFactory(openid=openid(4), subscribed=False)
    reply = reply_of(side, side.post(wx.event(openid(4), "subscribe")))
    assert follower.user.full_name in reply["Content"]


# --- Refusals touch nothing -----------------------------------------------------------------------


def test_a_bad_signature_is_refused_before_anything_is_read(
    client, official_account, django_assert_num_queries
):
    side = wx.WeChatSide(client, token="forged")
    with django_assert_num_queries(0):
        response = side.post(wx.text(openid(5), "帮助"))
    assert response.status_code == 403
    assert not Follower.objects.exists()


def test_missing_signature_parameters_are_refused(client, official_account, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.generic(
            "POST", "/wechat/official/", wx.text(openid(5), "帮助").encode(), "text/xml"
        )
    assert response.status_code == 403


def test_a_replay_with_an_old_timestamp_is_refused(client, official_account, django_assert_num_queries):
    side = wx.WeChatSide(client)
    with django_assert_num_queries(0):
        response = side.post(wx.text(openid(6), "帮助"), timestamp=int(time.time()) - 3600)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_timestamp_from_the_future_is_refused(client, official_account):
    response = wx.WeChatSide(client).post(wx.text(openid(6), "帮助"), timestamp=int(time.time()) + 3600)
    assert response.status_code == 403


def test_an_oversized_body_is_refused(client, settings, official_account, django_assert_num_queries):
    settings.WECHAT_OFFICIAL_MAX_BODY_BYTES = 2048
    with django_assert_num_queries(0):
        response = wx.WeChatSide(client).post(wx.text(openid(7), "x" * 5000))
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        "not xml at all",
        "<xml><FromUserName>",
        "<other><MsgType>text</MsgType></other>",
        "<xml><MsgType>text</MsgType></xml>",  # no sender
        wx.message_xml({"FromUserName": openid(8), "CreateTime": "soon", "MsgType": "text", "MsgId": 1}),
        wx.message_xml({"FromUserName": openid(8), "CreateTime": 1, "MsgType": "text", "MsgId": "abc"}),
        wx.message_xml({"FromUserName": "<b>", "CreateTime": 1, "MsgType": "text", "MsgId": 1}),
        "<xml><FromUserName><a>nested</a></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
        wx.message_xml(
            {
                "FromUserName": openid(8),
                "CreateTime": 1,
                "MsgType": "location",
                "MsgId": 1,
                "Location_X": "north",
                "Location_Y": "1",
            }
        ),
    ],
    ids=[
        "text",
        "truncated",
        "other-root",
        "no-sender",
        "bad-time",
        "bad-msgid",
        "bad-openid",
        "nested",
        "bad-position",
    ],
)
def test_a_malformed_body_is_refused_without_touching_the_database(body, side, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = side.post(body)
    assert response.status_code == 400


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]><xml><ToUserName>gh</ToUserName><FromUserName>oFAKE</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&i;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>oFAKE</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
    "<Content>&x;</Content></xml>"
)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_an_xml_bomb_is_refused_without_touching_the_database(body, side, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = side.post(body)
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_safe_mode_refuses_an_unencrypted_message(client, settings, official_account):
    settings.WECHAT_OFFICIAL_ENCODING_AES_KEY = OFFICIAL_AES_KEY
    response = wx.WeChatSide(client, safe=False).post(wx.text(openid(9), "帮助"))
    assert response.status_code == 400


def test_safe_mode_refuses_a_forged_msg_signature(client, settings, official_account):
    settings.WECHAT_OFFICIAL_ENCODING_AES_KEY = OFFICIAL_AES_KEY
    side = wx.WeChatSide(client, safe=True)
    path, body = side.signed_path(wx.text(openid(9), "帮助"))
    path = path.replace("msg_signature=", "msg_signature=0")[:-1]  # still 40 hex digits, but wrong
    response = client.generic("POST", path, body.encode(), content_type="text/xml")
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_the_url_openid_must_be_the_sender(client, official_account):
    response = wx.WeChatSide(client).post(wx.text(openid(10), "帮助"), openid=openid(11))
    assert response.status_code == 400


def test_without_a_configured_account_the_webhook_is_not_there(client, settings):
    settings.WECHAT_OFFICIAL_ENABLED = False
    response = client.get("/wechat/official/", {"echostr": "x"})
    assert response.status_code == 404
    assert "WECHAT_OFFICIAL_APP_ID" in response.content.decode()


# --- WeChat's retries --------------------------------------------------------------------------------


def test_a_retried_message_has_its_effect_once_and_the_same_answer(side):
    body = wx.text(openid(12), "#食堂#今天的红烧肉很好吃", msg_id=777)
    BoundFollowerFactory(openid=openid(12))
    answers = [side.reply(side.post(body)) for _ in range(3)]
    assert len(set(answers)) == 1
    assert "已发表到" in answers[0]
    assert InboundMessage.objects.filter(msg_id=777).count() == 1
    from official.models import TopicPost

    assert TopicPost.objects.count() == 1


def test_a_retried_subscribe_event_is_recorded_once(side):
    at = int(time.time())
    for _ in range(3):
        assert side.post(wx.event(openid(13), "subscribe", at=at)).status_code == 200
    assert Follower.objects.filter(openid=openid(13)).count() == 1
    assert InboundMessage.objects.filter(event="subscribe").count() == 1


def test_two_events_of_one_second_are_both_handled(side):
    at = int(time.time())
    side.post(wx.event(openid(14), "subscribe", at=at))
    side.post(wx.event(openid(14), "CLICK", key="帮助", at=at))
    assert set(InboundMessage.objects.values_list("event", flat=True)) == {"subscribe", "click"}


def test_location_reports_keep_the_newest_position_and_write_no_message(side):
    at = int(time.time())
    side.post(wx.event(openid(15), "LOCATION", at=at, Latitude="31.9", Longitude="118.8", Precision="30"))
    side.post(wx.event(openid(15), "LOCATION", at=at - 60, Latitude="10", Longitude="10", Precision="30"))
    follower = Follower.objects.get(openid=openid(15))
    assert float(follower.location.latitude) == pytest.approx(31.9)
    assert not InboundMessage.objects.exists()


def test_an_unanswerable_message_goes_to_the_inbox_once_acknowledged(side):
    first = reply_of(side, side.post(wx.text(openid(16), "请问奖学金什么时候发？")))
    assert "工作人员" in first["Content"]
    second = side.post(wx.text(openid(16), "还有，宿舍能换吗？"))
    assert second.content == b"success"  # the thread is open already: no second acknowledgement
    thread = Follower.objects.get(openid=openid(16)).thread
    assert thread.unread == 2 and thread.status == "open"
    assert set(InboundMessage.objects.values_list("handling", flat=True)) == {Handling.INBOX}


def test_an_image_goes_to_the_inbox(side):
    side.post(wx.media(openid(17), "image", PicUrl="http://mmbiz.qpic.cn/x", MediaId="MEDIA"))
    message = InboundMessage.objects.get()
    assert message.kind == "image" and message.media_id == "MEDIA" and message.handling == Handling.INBOX
