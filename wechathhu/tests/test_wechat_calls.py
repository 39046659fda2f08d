"""Every WeChat call maps an answer it cannot use to WeChatUnavailable (a retry later), never a
crash: the shared ``call`` as the senders use it."""

import pytest
import responses

from conftest import WECHAT_BASE
from wechathhu.integrations import wechat


@pytest.mark.parametrize(
    "token_answer",
    [
        {"json": {"expires_in": 7200}},  # no access_token
        {"json": ["ACCESS"]},
        {"body": "not json"},
        {"json": {"errcode": "busy"}},  # an errcode that is not a number
    ],
)
def test_a_send_with_an_unusable_access_token_answer_is_unavailable(settings, token_answer):
    settings.WECHAT_ENABLED = True
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx-test-app", "test-app-secret"
    settings.WECHAT_API_BASE_URL = WECHAT_BASE
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(WECHAT_BASE + "cgi-bin/token", **token_answer)
        mock.post(WECHAT_BASE + "cgi-bin/message/subscribe/send", json={"errcode": 0})
        with pytest.raises(wechat.WeChatUnavailable):
            wechat.send_subscribe_message(openid="o-1", template_id="t", data={"thing1": "提醒"})


def test_a_send_answered_with_broken_json_is_unavailable(wechat_api):
    wechat_api.post(WECHAT_BASE + "cgi-bin/message/subscribe/send", body="{broken")
    with pytest.raises(wechat.WeChatUnavailable):
        wechat.send_subscribe_message(openid="o-1", template_id="t", data={"thing1": "提醒"})
