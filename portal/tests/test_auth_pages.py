"""Signing in and out of the pages: the API's login check and throttles, sessions as devices,
the claim flow, the site root sending browsers here."""

import pytest
from django.test import Client

from accounts.models import ClaimCode
from accounts.tests.factories import StudentFactory
from conftest import PASSWORD
from portal.models import PageSession

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD, next_url=""):
    return client.post("/m/login/", {"username": username, "password": password, "next": next_url})


def test_root_sends_a_browser_to_the_portal_and_keeps_json_for_api_clients(client):
    browser = client.get("/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser.status_code == 302 and browser["Location"] == "/m/"
    assert "Accept" in browser["Vary"]
    api = client.get("/", HTTP_ACCEPT="application/json")
    assert api.status_code == 200 and "get-token" in api.json()
    assert client.get("/?format=api", HTTP_ACCEPT="text/html").status_code == 200  # the browsable API


def test_password_login_opens_a_session_and_goes_to_next(client, student):
    response = login(client, student.username, next_url="/m/contacts/")
    assert response.status_code == 302 and response["Location"] == "/m/contacts/"
    assert client.get("/m/").status_code == 200
    assert PageSession.objects.filter(user=student).count() == 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/m/", "/admin/", "/m/\\\\evil"])
def test_next_never_leaves_the_portal(client, student, target):
    assert login(client, student.username, next_url=target)["Location"] == "/m/"


def test_wrong_password_is_the_apis_message_as_a_form_error(client, student):
    response = login(client, student.username, "wrong")
    assert response.status_code == 400
    assert "无法使用提供的认证信息登录。" in response.content.decode()
    assert client.get("/m/").status_code == 302


def test_page_logins_share_the_apis_throttle(client, student, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/min"},
    }
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        for _ in range(2):
            login(client, student.username, "wrong")
        api = Client().post("/auth/get-token/", {"username": student.username, "password": "wrong"})
        assert api.status_code == 400  # the third attempt, through the API
        response = login(client, student.username)  # the fourth: throttled, right password or not
        assert response.status_code == 429
        assert "登录尝试过于频繁" in response.content.decode()
        assert client.get("/m/").status_code == 302
    finally:
        api_settings.reload()


def test_logout_is_a_post_and_ends_the_session(client, student):
    login(client, student.username)
    assert client.get("/m/logout/").status_code == 405
    response = client.post("/m/logout/")
    assert response.status_code == 302 and response["Location"] == "/m/login/"
    assert client.get("/m/").status_code == 302
    assert not PageSession.objects.filter(user=student).exists()


def test_signing_another_browser_out_from_devices(student):
    first, second = Client(), Client()
    login(first, student.username)
    login(second, student.username)
    other = PageSession.objects.filter(user=student).order_by("created_at", "id").first()
    page = second.get("/m/me/devices/").content.decode()
    assert page.count("退出</button>") >= 1
    second.post("/m/me/devices/", {"kind": "session", "id": other.pk})
    assert first.get("/m/").status_code == 302  # signed out
    assert second.get("/m/").status_code == 200


def test_signing_every_other_device_out_at_once(student):
    from accounts.models import AuthToken
    from accounts.services.tokens import token_issue

    bystander = StudentFactory()
    token_issue(user=bystander, device="别人的手机")
    other_tokens = [token_issue(user=student, device=f"手机{i}")[0] for i in range(2)]
    first, second, here = Client(), Client(), Client()
    for client in (first, second, here):
        login(client, student.username)
    page = here.get("/m/me/devices/").content.decode()
    assert "让其他所有设备退出登录" in page
    response = here.post("/m/me/devices/", {"kind": "others"}, follow=True)
    assert "已让其他 4 台设备退出登录" in response.content.decode()
    assert first.get("/m/").status_code == 302 and second.get("/m/").status_code == 302
    assert here.get("/m/").status_code == 200  # this browser stays
    assert not AuthToken.objects.filter(pk__in=[t.pk for t in other_tokens]).exists()
    assert PageSession.objects.filter(user=student).count() == 1
    # The API refuses the revoked tokens; someone else's devices are untouched.
    api = Client(HTTP_AUTHORIZATION=f"Token {other_tokens[0].key}")
    assert api.get("/api/v1/messages").status_code == 401
    assert AuthToken.objects.filter(user=bystander).count() == 1
    # Nothing left to sign out: said so, and the button is gone.
    again = here.post("/m/me/devices/", {"kind": "others"}, follow=True).content.decode()
    assert "没有其他设备在登录。" in again and "让其他所有设备退出登录" not in again


def test_someone_elses_session_cannot_be_signed_out(student, browser_for):
    victim = Client()
    login(victim, student.username)
    row = PageSession.objects.get(user=student)
    attacker = browser_for(StudentFactory())
    attacker.post("/m/me/devices/", {"kind": "session", "id": row.pk})
    assert victim.get("/m/").status_code == 200


def test_claim_with_the_initial_password_signs_in(client):
    imported = StudentFactory()  # never claimed, password set by the import
    response = client.post(
        "/m/claim/",
        {"username": imported.username, "name": imported.full_name, "password": PASSWORD, "new_password": ""},
    )
    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.claimed_at is not None
    assert client.get("/m/").status_code == 200


def test_claim_with_a_claim_code_and_a_new_password(client, staff_user):
    from accounts.services import claims

    imported = StudentFactory()
    code = claims.claim_code_issue(user=imported, by=staff_user)
    response = client.post(
        "/m/claim/",
        {
            "username": imported.username,
            "name": imported.full_name,
            "claim_code": code,
            "new_password": "a-new-pass-2026!",
        },
    )
    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.check_password("a-new-pass-2026!")
    assert not ClaimCode.objects.filter(user=imported).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "别人"}, "认领失败"),
        ({"password": ""}, "请填写初始密码或认领码。"),
    ],
)
def test_claim_mismatch_is_a_form_error(client, data, message):
    imported = StudentFactory()
    body = {"username": imported.username, "name": imported.full_name, "password": PASSWORD, **data}
    response = client.post("/m/claim/", body)
    assert response.status_code == 400
    assert message in response.content.decode()
    imported.refresh_from_db()
    assert imported.claimed_at is None


WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit MicroMessenger/8.0.50"


def _waiting_follower(client, openid: str) -> None:
    """What the official account's page login leaves when it finds no account for a follower."""
    session = client.session
    session["official_openid"] = openid
    session.save()


def test_inside_wechat_the_login_goes_through_the_official_account_once(client, official_account):
    response = client.get("/m/login/?next=/m/repairs/", HTTP_USER_AGENT=WECHAT_UA)
    assert response.status_code == 302
    assert response["Location"] == "/wechat/oauth/start/?next=%2Fm%2Frepairs%2F"
    _waiting_follower(client, "oa-openid-0")  # came back unbound: the form, no second round
    assert client.get("/m/login/?next=/m/repairs/", HTTP_USER_AGENT=WECHAT_UA).status_code == 200


def test_a_waiting_follower_is_bound_by_the_password_login(client, student, official_account):
    from official.models import Follower

    _waiting_follower(client, "oa-openid-1")
    assert login(client, student.username).status_code == 302
    assert Follower.objects.get(openid="oa-openid-1").user == student
    assert "official_openid" not in client.session


def test_a_waiting_follower_is_bound_by_the_claim(client, official_account):
    from official.models import Follower

    imported = StudentFactory()
    _waiting_follower(client, "oa-openid-2")
    response = client.post(
        "/m/claim/", {"username": imported.username, "name": imported.full_name, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert Follower.objects.get(openid="oa-openid-2").user == imported


def test_a_follower_from_another_classs_qr_code_is_bound_once_they_prove_who_they_are(
    client, official_account
):
    """The official account's rule: a class QR code guides, never blocks."""
    from accounts.tests.factories import SchoolClassFactory
    from official.models import Follower
    from official.tests.factories import FollowerFactory

    FollowerFactory(openid="oa-openid-3", scene_class=SchoolClassFactory(name="计科2402"))
    student = StudentFactory()  # of another class
    _waiting_follower(client, "oa-openid-3")
    assert login(client, student.username).status_code == 302
    assert Follower.objects.get(openid="oa-openid-3").user == student


def test_outside_wechat_or_without_the_official_account_the_login_form_shows(client):
    wechat = "Mozilla/5.0 (iPhone) AppleWebKit MicroMessenger/8.0.50"
    assert client.get("/m/login/", HTTP_USER_AGENT="Mozilla/5.0 Safari").status_code == 200
    # Without the official account app (or with it switched off) WeChat gets the form too.
    assert client.get("/m/login/", HTTP_USER_AGENT=wechat).status_code == 200
