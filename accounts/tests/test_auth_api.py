"""Login paths, per-device tokens, expiry and throttling (mini-program contract §2.1, §3)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuthToken
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GET_TOKEN = "/auth/get-token/"


def login(client, username, password, device="phone-A"):
    return client.post(GET_TOKEN, {"username": username, "password": password}, HTTP_USER_AGENT=device)


def test_contract_paths_are_the_clients():
    assert reverse("accounts:get-token") == GET_TOKEN
    assert reverse("accounts:wechat-code2token") == "/auth/wechat-code2token/"
    assert reverse("accounts:wechat-auth") == "/auth/wechat-auth/"
    assert reverse("accounts:current-user") == "/current-user/"
    assert reverse("accounts:current-user-meta") == "/current-user/meta/"


def post_login(client, user, password, **extra):
    return client.post(GET_TOKEN, {"username": user.username, "password": password, **extra})


def test_every_password_login_is_a_token_of_its_own(anon_client, user, password):
    """Two phones of the same model (same User-Agent) log in: two tokens, and logging out on one
    leaves the other signed in (the original's W18)."""
    first = login(anon_client, user.username, password, device="iPhone WeChat/8.0")
    assert first.status_code == 201
    assert set(first.json()) == {"token"} and len(first.json()["token"]) == 40
    again = login(anon_client, user.username, password, device="iPhone WeChat/8.0")
    assert again.status_code == 201 and again.json()["token"] != first.json()["token"]
    assert (
        anon_client.post("/auth/logout/", HTTP_AUTHORIZATION=f"Token {first.json()['token']}").status_code
        == 204
    )
    assert (
        anon_client.get("/current-user/", HTTP_AUTHORIZATION=f"Token {again.json()['token']}").status_code
        == 200
    )


def test_a_login_naming_its_device_refreshes_that_devices_token(anon_client, user, password):
    first = post_login(anon_client, user, password, device="我的手机", device_id="dev-1")
    assert first.status_code == 201
    again = post_login(anon_client, user, password, device="我的手机", device_id="dev-1")
    assert again.status_code == 200 and again.json()["token"] == first.json()["token"]
    other = post_login(anon_client, user, password, device="我的手机", device_id="dev-2")
    assert other.status_code == 201 and other.json()["token"] != first.json()["token"]


def test_a_user_keeps_at_most_the_cap_revoking_the_least_recently_used(settings, anon_client, user, password):
    settings.ACCOUNTS_MAX_TOKENS_PER_USER = 3
    settings.TOKEN_TOUCH_INTERVAL = 0
    start = timezone.now()
    keys = []
    for minute in range(4):
        with time_machine.travel(start + timedelta(minutes=minute)):
            keys.append(post_login(anon_client, user, password).json()["token"])
    assert set(AuthToken.objects.filter(user=user).values_list("key", flat=True)) == set(keys[1:])
    with time_machine.travel(start + timedelta(minutes=5)):  # the second device is used again
        assert anon_client.get("/current-user/", HTTP_AUTHORIZATION=f"Token {keys[1]}").status_code == 200
    with time_machine.travel(start + timedelta(minutes=6)):
        keys.append(post_login(anon_client, user, password).json()["token"])
    assert set(AuthToken.objects.filter(user=user).values_list("key", flat=True)) == {
        keys[1],
        keys[3],
        keys[4],
    }
    assert anon_client.get("/current-user/", HTTP_AUTHORIZATION=f"Token {keys[2]}").status_code == 401


def test_wrong_password_is_the_originals_message(anon_client, user):
    response = login(anon_client, user.username, "wrong")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["无法使用提供的认证信息登录。"],
        "error_code": "login_failed",
    }


def test_missing_fields_are_field_errors(anon_client):
    response = anon_client.post(GET_TOKEN, {})
    assert response.status_code == 400
    assert response.json() == {
        "username": ["该字段是必填项。"],
        "password": ["该字段是必填项。"],
        "error_code": "required",
    }


@pytest.mark.parametrize("field", ["is_active", "password"])
def test_inactive_or_passwordless_accounts_cannot_log_in(anon_client, field):
    user = UserFactory()
    if field == "is_active":
        user.is_active = False
    else:
        user.set_unusable_password()
    user.save()
    assert login(anon_client, user.username, "pass-word-123").status_code == 400


def test_form_encoded_login_works_too(anon_client, user, password):
    response = anon_client.post(
        GET_TOKEN, {"username": user.username, "password": password}, format="multipart"
    )
    assert response.status_code == 201


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_both_header_keywords_authenticate(anon_client, user, password, keyword):
    key = login(anon_client, user.username, password).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    response = client.get("/current-user/")
    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_token_null_before_login_is_unauthenticated(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token null")
    response = anon_client.get("/current-user/")
    assert response.status_code == 401
    assert response.json() == {"detail": "身份认证信息未提供。", "error_code": "not_authenticated"}


def test_unknown_token_is_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = anon_client.get("/current-user/")
    assert response.status_code == 401
    assert response.json() == {"detail": "认证令牌无效。", "error_code": "authentication_failed"}


def test_token_expires_after_the_idle_period_and_use_keeps_it_alive(settings, make_client, user):
    settings.TOKEN_IDLE_TIMEOUT = 3600
    settings.TOKEN_TOUCH_INTERVAL = 60
    client = make_client(user)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=50)):
        assert client.get("/current-user/").status_code == 200  # used: idle clock restarts
    with time_machine.travel(start + timedelta(minutes=100)):
        assert client.get("/current-user/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=161)):
        response = client.get("/current-user/")
    assert response.status_code == 401
    assert response.json()["detail"] == "认证令牌已过期，请重新登录。"
    assert not AuthToken.objects.filter(user=user).exists()


def test_expired_device_login_gets_a_new_token(settings, anon_client, user, password):
    settings.TOKEN_IDLE_TIMEOUT = 3600
    old = login(anon_client, user.username, password).json()["token"]
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = login(anon_client, user.username, password)
    assert response.status_code == 201
    assert response.json()["token"] != old


def test_login_is_throttled_per_address_with_a_chinese_message(settings, anon_client, user):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "3/min",
            "login_user": "100/min",
        },
    }
    for _ in range(3):
        assert login(anon_client, "nobody", "x").status_code == 400
    response = login(anon_client, "nobody", "x")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("登录尝试过于频繁，请稍后再试。")
    assert "Retry-After" in response.headers


def test_login_is_throttled_per_account_across_addresses(settings, anon_client, user, password):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "100/min",
            "login_user": "2/min",
        },
    }
    for ip in ("10.0.0.1", "10.0.0.2"):
        anon_client.post(GET_TOKEN, {"username": user.username, "password": "bad"}, REMOTE_ADDR=ip)
    response = anon_client.post(
        GET_TOKEN, {"username": user.username, "password": password}, REMOTE_ADDR="10.0.0.3"
    )
    assert response.status_code == 429


def test_logout_revokes_only_this_device(make_client, user):
    phone_a, phone_b = make_client(user, device="A"), make_client(user, device="B")
    assert phone_a.post("/auth/logout/").status_code == 204
    assert phone_a.get("/current-user/").status_code == 401
    assert phone_b.get("/current-user/").status_code == 200


def test_user_lists_and_revokes_own_devices(make_client, user):
    phone_a, phone_b = make_client(user, device="A"), make_client(user, device="B")
    other = make_client(UserFactory(), device="C")
    listed = phone_a.get("/auth/tokens/").json()
    assert {row["device"] for row in listed} == {"A", "B"}
    assert [row["current"] for row in listed if row["device"] == "A"] == [True]
    b_id = next(row["id"] for row in listed if row["device"] == "B")
    assert other.delete(f"/auth/tokens/{b_id}/").status_code == 404
    assert phone_a.delete(f"/auth/tokens/{b_id}/").status_code == 204
    assert phone_b.get("/current-user/").status_code == 401


def test_staff_revocation_through_the_admin_signs_the_device_out(client, make_client, user, superuser):
    phone = make_client(user, device="A")
    client.force_login(superuser)
    response = client.post(reverse("admin:accounts_authtoken_delete", args=[phone.token.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert phone.get("/current-user/").status_code == 401
