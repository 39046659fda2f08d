"""Issue 16 items 7, 8, 9: every password check counts against one per-address and one per-account
limit, whatever the door (API, H5 portal, admin, /api-auth/) and however the number is spelled; a
stranger's guessing locks an account for unknown devices only."""

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import KnownDevice, User
from accounts.services.users import user_create
from accounts.tests.factories import UserFactory
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

GET_TOKEN = "/auth/get-token/"
LOCKED = "已暂时锁定"


@pytest.fixture
def rates(settings):
    def set_rates(*, login="100/min", login_user="100/hour"):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "login": login,
                "login_user": login_user,
            },
        }

    return set_rates


@pytest.fixture
def staff(db):
    return UserFactory(username="T1001", is_staff=True, is_superuser=True, kind="staff")


def api_login(username, password, ip="10.0.0.1", **extra):
    return APIClient().post(GET_TOKEN, {"username": username, "password": password, **extra}, REMOTE_ADDR=ip)


def admin_login(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def api_auth_login(client, username, password, ip="10.0.0.1"):
    return client.post("/api-auth/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def portal_login(client, username, password, ip="10.0.0.1"):
    return client.post("/m/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Item 7: the form logins ---------------------------------------------------------------------


def test_admin_login_counts_against_the_apis_per_account_limit(rates, staff):
    """30 wrong then right on /admin/login/ logged in while the API answered 429: now the admin page
    is refused as well (a fresh browser: no known device)."""
    rates(login_user="5/hour")
    for n in range(5):
        assert admin_login(Client(), "T1001", "wrong", ip=f"10.0.1.{n}").status_code == 200
    assert api_login("T1001", PASSWORD, ip="10.0.2.1").status_code == 429
    browser = Client()
    response = admin_login(browser, "T1001", PASSWORD, ip="10.0.2.2")
    assert response.status_code == 200 and LOCKED in response.content.decode()
    assert not signed_in(browser)


def test_admin_login_counts_against_the_per_address_limit(rates, staff):
    rates(login="3/min")
    browser = Client()
    for _ in range(3):
        assert admin_login(browser, "T1001", "wrong").status_code == 200
    response = admin_login(browser, "T1001", PASSWORD)
    assert "登录尝试过于频繁" in response.content.decode() and not signed_in(browser)
    assert api_login("T1001", PASSWORD).status_code == 429  # the same counter
    assert api_login("T1001", PASSWORD, ip="10.9.9.9").status_code == 201  # another address


def test_a_wrong_admin_password_keeps_djangos_message(staff):
    response = admin_login(Client(), "T1001", "wrong")
    assert response.status_code == 200 and "正确的" in response.content.decode()


def test_api_auth_login_counts_against_the_same_limits(rates, settings, staff):
    settings.API_AUTH_ENABLED = True
    rates(login_user="3/hour")
    api_auth_login(Client(), "T1001", "wrong", ip="10.0.3.1")
    portal_login(Client(), "T1001", "wrong", ip="10.0.3.2")
    api_login("T1001", "wrong", ip="10.0.3.3")
    browser = Client()
    response = api_auth_login(browser, "T1001", PASSWORD, ip="10.0.3.4")
    assert response.status_code == 200 and LOCKED in response.content.decode()
    assert not signed_in(browser)


def test_api_auth_logs_in_when_enabled(settings, staff):
    settings.API_AUTH_ENABLED = True
    browser = Client()
    assert api_auth_login(browser, "T1001", PASSWORD).status_code == 302
    assert signed_in(browser)


def test_api_auth_is_off_unless_enabled(settings, staff):
    settings.API_AUTH_ENABLED = False
    browser = Client()
    assert browser.get("/api-auth/login/").status_code == 404
    assert api_auth_login(browser, "T1001", PASSWORD).status_code == 404
    assert not signed_in(browser)


def test_api_auth_is_off_by_default_in_production(tmp_path):
    from wechathhu.tests.test_deploy import PRODUCTION, settings_from

    assert settings_from(VAR_DIR=str(tmp_path), **PRODUCTION)["API_AUTH_ENABLED"] is False
    enabled = settings_from(VAR_DIR=str(tmp_path), API_AUTH_ENABLED="true", **PRODUCTION)
    assert enabled["API_AUTH_ENABLED"] is True
    assert settings_from(VAR_DIR=str(tmp_path), DEBUG="true")["API_AUTH_ENABLED"] is True


# --- Item 8: one account, one spelling -------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["t1001", "Ｔ１００１", " T1001 ", "ｔ１００１"])
def test_other_spellings_log_in_as_the_account(staff, spelling):
    response = api_login(spelling, PASSWORD)
    assert response.status_code == 201
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/current-user/").json()["username"] == "T1001"


@pytest.mark.parametrize("spelling", ["Ť1001", "T1001\u0301", "Т1001"])  # caron, combining accent, Cyrillic Т
def test_a_look_alike_spelling_never_logs_in(staff, spelling):
    """MariaDB's collation takes Ť1001 for T1001: it must not log in, nor count as another account."""
    assert api_login(spelling, PASSWORD).status_code == 400
    assert not signed_in(_portal_after(spelling))


def _portal_after(spelling):
    browser = Client()
    portal_login(browser, spelling, PASSWORD)
    return browser


def test_every_spelling_counts_against_the_one_account(rates, staff):
    rates(login_user="4/hour")
    for n, spelling in enumerate(["t1001", "Ｔ１００１", "ｔ１００１", "T1001"]):
        assert api_login(spelling, "wrong", ip=f"10.0.4.{n}").status_code == 400
    assert api_login("t1001", PASSWORD, ip="10.0.4.9").status_code == 429


def test_look_alike_duplicates_are_refused_by_the_service(staff):
    from django.core.exceptions import ValidationError

    for spelling in ("t1001", "Ｔ１００１"):
        with pytest.raises(ValidationError) as refused:
            user_create(username=spelling, password=PASSWORD)
        assert "username" in refused.value.message_dict
    assert User.objects.filter(username__iexact="t1001").count() == 1


def test_creation_stores_the_normalised_number(db):
    assert user_create(username="Ｓ２０２４９９９").username == "S2024999"


def test_look_alike_duplicates_are_refused_by_the_admin(staff):
    browser = Client()
    browser.force_login(staff)
    response = browser.post(
        "/admin/accounts/user/add/",
        {
            "username": "t1001",
            "password1": "An0ther-pass!",
            "password2": "An0ther-pass!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "已存在" in response.content.decode()
    assert User.objects.filter(username__iexact="t1001").count() == 1
    other = UserFactory(username="T2002")
    page = browser.get(f"/admin/accounts/user/{other.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if isinstance(value, str | int | bool) and name in form.fields and name != "avatar"
    }
    data.update({"username": "t1001", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    response = browser.post(f"/admin/accounts/user/{other.pk}/change/", data)
    assert response.status_code == 200 and "已存在" in response.content.decode()
    other.refresh_from_db()
    assert other.username == "T2002"


def test_sign_up_refuses_a_look_alike_number(settings, staff):
    settings.ACCOUNTS_OPEN_REGISTRATION = True
    response = APIClient().post(
        "/auth/register/",
        {
            "username": "t1001",
            "password": "An0ther-pass!",
            "last_name": "王",
            "first_name": "五",
            "kind": "teacher",
        },
    )
    assert response.status_code == 400
    assert User.objects.filter(username__iexact="t1001").count() == 1


# --- Item 9: lockout as a weapon ------------------------------------------------------------------


def lock_out(username, attempts=3):
    """A stranger guessing from many addresses until the account's limit is reached."""
    for n in range(attempts):
        api_login(username, "guess", ip=f"10.66.0.{n}")


def test_a_known_app_device_passes_the_lock_and_an_unknown_one_is_told(rates, staff):
    rates(login_user="3/hour")
    device_id = str(uuid.uuid4())
    assert api_login("T1001", PASSWORD, device_id=device_id).status_code == 201
    lock_out("T1001", attempts=2)  # with the owner's login above: the limit is reached
    refused = api_login("T1001", PASSWORD, ip="10.0.5.1", device_id=str(uuid.uuid4()))
    assert refused.status_code == 429
    assert LOCKED in refused.json()["detail"] and "曾经登录过" in refused.json()["detail"]
    assert refused.json()["error_code"] == "locked_for_unknown_devices"
    assert "Retry-After" in refused.headers
    assert api_login("T1001", PASSWORD, ip="10.0.5.1").status_code == 429  # no device id at all
    assert api_login("T1001", PASSWORD, ip="10.0.5.2", device_id=device_id).status_code == 200
    # A known device with a wrong password is still refused, with the same answer as anyone.
    wrong = api_login("T1001", "guess", ip="10.0.5.3", device_id=device_id)
    assert wrong.status_code == 429 and LOCKED in wrong.json()["detail"]


def test_a_short_device_id_is_no_proof(rates, staff):
    rates(login_user="2/hour")
    assert api_login("T1001", PASSWORD, device_id="1").status_code == 201
    lock_out("T1001", attempts=2)
    assert api_login("T1001", PASSWORD, device_id="1").status_code == 429


def test_a_browser_that_logged_in_before_passes_the_lock(rates, staff):
    rates(login_user="3/hour")
    mine = Client()
    assert portal_login(mine, "T1001", PASSWORD).status_code == 302
    assert mine.cookies["wh_device"].value and mine.cookies["wh_device"]["httponly"]
    mine.post("/m/logout/")
    lock_out("T1001", attempts=3)
    stranger = Client()
    response = portal_login(stranger, "T1001", PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not signed_in(stranger)
    assert portal_login(mine, "T1001", PASSWORD).status_code == 302
    assert signed_in(mine)
    # The same browser in the admin: known as well.
    assert admin_login(mine, "T1001", PASSWORD).status_code == 302


def test_a_cookie_of_another_account_is_no_proof(rates, staff):
    rates(login_user="2/hour")
    other = UserFactory(username="T3003")
    browser = Client()
    assert portal_login(browser, other.username, PASSWORD).status_code == 302
    browser.post("/m/logout/")
    lock_out("T1001", attempts=2)
    assert portal_login(browser, "T1001", PASSWORD).status_code == 429


def test_only_a_hash_of_the_device_key_is_stored(staff):
    device_id = str(uuid.uuid4())
    api_login("T1001", PASSWORD, device_id=device_id)
    stored = list(KnownDevice.objects.filter(user=staff).values_list("key_hash", flat=True))
    assert len(stored) == 1 and device_id not in stored[0] and len(stored[0]) == 64
