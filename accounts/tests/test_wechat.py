"""WeChat login and binding. WeChat is faked at the HTTP layer; the real wechatpy code runs."""

import logging

import pytest
import requests
import responses

from accounts.models import AuthToken
from accounts.tests.factories import UserFactory
from conftest import WECHAT_BASE as BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def wechat(wechat_api):
    return wechat_api


def answer_code(mock, code, payload):
    mock.get(
        BASE + "sns/jscode2session",
        match=[responses.matchers.query_param_matcher({"js_code": code}, strict_match=False)],
        json=payload,
    )


def test_code_to_token_logs_in_the_bound_user(wechat, anon_client):
    user = UserFactory(wechat_openid="openid-1")
    answer_code(wechat, "code-1", {"openid": "openid-1", "session_key": "k"})
    response = anon_client.post("/auth/wechat-code2token/", {"code": "code-1"}, HTTP_USER_AGENT="iPhone")
    assert response.status_code == 201
    token = AuthToken.objects.get(key=response.json()["token"])
    assert token.user == user and token.device == "iPhone"

    again = anon_client.post("/auth/wechat-code2token/", {"code": "code-1"}, HTTP_USER_AGENT="iPhone")
    assert again.status_code == 201 and again.json()["token"] != token.key  # every login its own token
    named = anon_client.post("/auth/wechat-code2token/", {"code": "code-1", "device_id": "d1"})
    same = anon_client.post("/auth/wechat-code2token/", {"code": "code-1", "device_id": "d1"})
    assert (named.status_code, same.status_code) == (201, 200)
    assert same.json()["token"] == named.json()["token"]
    sent = [c.request for c in wechat.calls if "jscode2session" in c.request.url][0]
    assert "appid=wx-test-app" in sent.url and "grant_type=authorization_code" in sent.url


def test_code_of_an_unbound_wechat_is_a_clear_400(wechat, anon_client):
    answer_code(wechat, "code-2", {"openid": "stranger"})
    response = anon_client.post("/auth/wechat-code2token/", {"code": "code-2"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "该微信尚未绑定账号，请先使用工号和密码登录。",
        "error_code": "wechat_not_bound",
    }


def test_missing_code_is_a_clear_400(wechat, anon_client):
    response = anon_client.post("/auth/wechat-code2token/", {})
    assert response.status_code == 400
    assert response.json() == {"detail": "缺少微信登录凭证 code。", "error_code": "wechat_code_missing"}
    assert not [c for c in wechat.calls if "jscode2session" in c.request.url]


def test_a_refused_code_is_400_and_its_errcode_logged(wechat, anon_client, caplog):
    answer_code(wechat, "bad", {"errcode": 40029, "errmsg": "invalid code"})
    with caplog.at_level(logging.WARNING, logger="wechathhu.integrations.wechat"):
        response = anon_client.post("/auth/wechat-code2token/", {"code": "bad"})
    assert response.status_code == 400
    assert response.json() == {"detail": "微信登录凭证无效或已过期，请重试。", "error_code": "wechat_error"}
    assert "40029" in caplog.text


def test_unreachable_wechat_is_503(wechat, anon_client):
    wechat.get(BASE + "sns/jscode2session", body=requests.ConnectTimeout("timed out"))
    response = anon_client.post("/auth/wechat-code2token/", {"code": "c"})
    assert response.status_code == 503
    assert response.json() == {
        "detail": "暂时无法连接微信服务器，请稍后重试。",
        "error_code": "wechat_unavailable",
    }


def test_wechat_not_configured_is_503(settings, anon_client):
    settings.WECHAT_ENABLED = False
    response = anon_client.post("/auth/wechat-code2token/", {"code": "c"})
    assert response.status_code == 503
    assert "未配置微信登录" in response.json()["detail"]


def test_access_token_is_fetched_once_and_shared_through_the_cache(wechat, anon_client):
    UserFactory(wechat_openid="o")
    answer_code(wechat, "c1", {"openid": "o"})
    answer_code(wechat, "c2", {"openid": "o"})
    anon_client.post("/auth/wechat-code2token/", {"code": "c1"})
    anon_client.post("/auth/wechat-code2token/", {"code": "c2"})
    assert len([c for c in wechat.calls if c.request.url.startswith(BASE + "cgi-bin/token")]) == 1


def test_binding_moves_the_openid_off_any_other_account(wechat, make_client):
    previous = UserFactory(wechat_openid="openid-9")
    me = UserFactory()
    answer_code(wechat, "bind", {"openid": "openid-9"})
    response = make_client(me).put("/auth/wechat-auth/", {"code": "bind"})
    assert response.status_code == 200
    assert response.json()["username"] == me.username
    me.refresh_from_db()
    previous.refresh_from_db()
    assert me.wechat_openid == "openid-9"
    assert previous.wechat_openid is None


def test_binding_without_code_is_400(wechat, api_client):
    response = api_client.put("/auth/wechat-auth/", {})
    assert response.status_code == 400
    assert response.json() == {"detail": "缺少微信登录凭证 code。", "error_code": "wechat_code_missing"}


def test_unbinding_logs_out_this_device_only(make_client):
    me = UserFactory(wechat_openid="openid-x")
    phone, laptop = make_client(me, device="phone"), make_client(me, device="laptop")
    response = phone.delete("/auth/wechat-auth/")
    assert response.status_code == 200
    assert response.json()["id"] == me.pk
    me.refresh_from_db()
    assert me.wechat_openid is None
    assert phone.get("/current-user/").status_code == 401
    assert laptop.get("/current-user/").status_code == 200


def test_the_clients_login_flow_end_to_end(wechat, anon_client, password):
    """C3 → C4 → C1 → C2: password login, bind WeChat, then WeChat login on next launch."""
    me = UserFactory()
    token = anon_client.post("/auth/get-token/", {"username": me.username, "password": password}).json()[
        "token"
    ]
    client = anon_client.__class__()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer_code(wechat, "login-code", {"openid": "my-openid"})
    assert client.put("/auth/wechat-auth/", {"code": "login-code"}).status_code == 200
    answer_code(wechat, "launch-code", {"openid": "my-openid"})
    launch = anon_client.post("/auth/wechat-code2token/", {"code": "launch-code"})
    assert launch.status_code == 201  # a new token; 200 is only a device's own token re-issued
    client.credentials(HTTP_AUTHORIZATION=f"Token {launch.json()['token']}")
    current = client.get("/current-user/").json()
    assert {"first_name", "last_name", "email", "username", "department"} <= set(current)


UNREACHABLE = "暂时无法连接微信服务器，请稍后重试。"


@pytest.mark.parametrize(
    "answer",
    [
        {"body": "<html>502 Bad Gateway</html>"},  # not JSON, status 200
        {"body": '{"openid": "o-1"'},  # cut off
        {"json": ["openid", "o-1"]},  # JSON, but not an object
        {"json": {"session_key": "k"}},  # no openid and no errcode
        {"json": {"openid": 12345}},
        {"json": {"openid": ""}},
        {"json": {"openid": "o" * 65}},  # longer than any openid (and the column)
        {"json": {"openid": "o-1; DROP"}},
        {"json": {"errcode": "busy", "errmsg": "?"}},  # an errcode that is not a number
        {"status": 502, "body": "Bad Gateway"},
        {"status": 404, "json": {"errcode": 0}},
    ],
)
def test_any_unexpected_code2session_answer_is_503_with_the_usual_message(
    wechat, anon_client, answer, caplog
):
    wechat.get(BASE + "sns/jscode2session", **answer)
    UserFactory(wechat_openid="o-1")
    with caplog.at_level(logging.WARNING, logger="wechathhu.integrations.wechat"):
        response = anon_client.post("/auth/wechat-code2token/", {"code": "c"})
    assert response.status_code == 503
    assert response.json()["detail"] == UNREACHABLE
    assert "code2session" in caplog.text
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    "token_answer",
    [
        {"body": "not json"},
        {"json": {"expires_in": 7200}},  # no access_token
        {"json": ["ACCESS"]},
        {"status": 500, "body": "oops"},
    ],
)
def test_an_unexpected_access_token_answer_is_503_too(settings, anon_client, token_answer):
    settings.WECHAT_ENABLED = True
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx-test-app", "test-app-secret"
    settings.WECHAT_API_BASE_URL = BASE
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(BASE + "cgi-bin/token", **token_answer)
        mock.get(BASE + "sns/jscode2session", json={"openid": "o-1"})
        response = anon_client.post("/auth/wechat-code2token/", {"code": "c"})
    assert response.status_code == 503
    assert response.json()["detail"] == UNREACHABLE


def test_binding_and_claiming_with_a_broken_answer_are_503(wechat, api_client, anon_client, user):
    wechat.get(BASE + "sns/jscode2session", body="{broken")
    bind = api_client.put("/auth/wechat-auth/", {"code": "c"})
    assert (bind.status_code, bind.json()["detail"]) == (503, UNREACHABLE)
    claim = anon_client.post(
        "/auth/claim/",
        {"username": user.username, "name": user.full_name, "password": "x", "code": "c"},
    )
    assert (claim.status_code, claim.json()["detail"]) == (503, UNREACHABLE)
