"""The token cache: a request with a token seen recently runs no SQL, and whatever makes the
cached token wrong (revoked, user deactivated or saved, department renamed) counts on the very
next request — in this process and in any other (the Redis pass)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import token_cache
from accounts.models import AuthToken
from accounts.services.tokens import token_issue, token_revoke
from accounts.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cached(settings):
    settings.TOKEN_CACHE_SECONDS = 60


def queries_of(client, path="/api/v1/ping"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, len(queries)


def test_a_token_seen_recently_authenticates_without_any_sql(cached, make_client, user):
    client = make_client(user)
    response, first = queries_of(client)
    assert response.status_code == 200 and first >= 1
    response, again = queries_of(client)
    assert response.status_code == 200 and response.json()["data"] == {"user_id": user.pk}
    assert again == 0


def test_the_cached_user_is_the_whole_user_with_the_department(cached, make_client):
    user = UserFactory(department=DepartmentFactory(name="计算机系"))
    client = make_client(user)
    client.get("/api/v1/ping")
    response, count = queries_of(client, "/api/v1/me")
    assert response.json()["data"]["real_name"] == user.full_name
    assert count == 0


@pytest.mark.parametrize(("redis_url", "seconds"), [("", "0"), ("redis://127.0.0.1:6379/15", "60")])
def test_on_by_default_only_with_redis(redis_url, seconds, tmp_path):
    """The default as a deployment reads it: a cache every process shares (Redis) or none."""
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/dev/null", "DEBUG": "true", "VAR_DIR": str(tmp_path)}
    if redis_url:
        env["REDIS_URL"] = redis_url
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.TOKEN_CACHE_SECONDS)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter with a fixed argument list
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "wechathhu.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == seconds, result.stderr


def test_off_the_token_costs_its_query(settings, make_client, user):
    settings.TOKEN_CACHE_SECONDS = 0
    assert not token_cache.enabled()
    client = make_client(user)
    client.get("/api/v1/ping")
    assert queries_of(client)[1] == 1


@pytest.mark.parametrize("how", ["logout", "device list", "service"])
def test_a_revoked_token_is_refused_on_the_next_request(cached, make_client, user, how):
    phone, other = make_client(user, device="A"), make_client(user, device="B")
    assert phone.get("/api/v1/ping").status_code == 200  # now cached
    if how == "logout":
        assert phone.post("/auth/logout/").status_code == 204
    elif how == "device list":
        assert other.delete(f"/auth/tokens/{phone.token.pk}/").status_code == 204
    else:
        token_revoke(token=phone.token)
    assert phone.get("/api/v1/ping").status_code == 401
    assert other.get("/api/v1/ping").status_code == 200


def test_staff_revocation_in_the_admin_is_refused_on_the_next_request(
    cached, client, make_client, user, superuser
):
    phone = make_client(user)
    assert phone.get("/api/v1/ping").status_code == 200
    client.force_login(superuser)
    client.post(reverse("admin:accounts_authtoken_delete", args=[phone.token.pk]), {"post": "yes"})
    assert phone.get("/api/v1/ping").status_code == 401


def test_a_deactivated_user_is_refused_on_the_next_request(cached, client, make_client, user, superuser):
    phone = make_client(user)
    assert phone.get("/api/v1/ping").status_code == 200
    user.is_active = False
    user.save()
    response = phone.get("/api/v1/ping")
    assert response.status_code == 401
    assert response.json()["message"] == "用户未激活或已删除。"


def test_a_deleted_user_is_refused_on_the_next_request(cached, make_client, user):
    phone = make_client(user)
    assert phone.get("/api/v1/ping").status_code == 200
    user.delete()
    assert phone.get("/api/v1/ping").status_code == 401


def test_a_saved_user_is_read_again(cached, make_client, user):
    phone = make_client(user)
    phone.get("/current-user/")
    user.first_name = "新名"
    user.is_staff = True
    user.save()
    body = phone.get("/current-user/").json()
    assert (body["first_name"], body["is_staff"]) == ("新名", True)


def test_a_renamed_department_is_read_again(cached, make_client):
    department = DepartmentFactory(name="旧系名")
    phone = make_client(UserFactory(department=department))
    assert phone.get("/current-user/").json()["department"]["name"] == "旧系名"
    department.name = "新系名"
    department.save()
    assert phone.get("/current-user/").json()["department"]["name"] == "新系名"
    department.delete()
    assert phone.get("/current-user/").json()["department"] is None


def test_an_entry_read_before_a_revocation_is_never_used(cached, user):
    """The race a version closes: a request reads the token from the database, the token is
    revoked (and the cache told), then that request stores what it read."""
    token, _ = token_issue(user=user, device="A")
    _, version = token_cache.get(token.key)
    read = AuthToken.objects.select_related("user__department").get(pk=token.pk)
    token_cache.invalidate([token.key])  # the revocation commits meanwhile
    token_cache.put(read, version)  # the slow request stores its (now stale) read
    assert token_cache.get(token.key)[0] is None


def test_a_cache_outage_falls_back_to_the_database(cached, settings, make_client, user):
    from wechathhu.tests.test_faults import DEAD_REDIS, redis_cache

    phone = make_client(user)
    settings.CACHES = redis_cache(DEAD_REDIS, timeout=0.2)
    settings.TOKEN_CACHE_SECONDS = 60
    assert phone.get("/api/v1/ping").status_code == 200
    assert phone.post("/auth/logout/").status_code == 204
    assert phone.get("/api/v1/ping").status_code == 401


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_revocation_in_another_process_is_refused_on_the_next_request(settings, make_client, user):
    """Two processes share the Redis cache: this one caches the token, another revokes it (and
    deactivates a second user), and this one refuses both on the very next request."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis, the cache every process shares")
    settings.TOKEN_CACHE_SECONDS = 60
    phone = make_client(user)
    second = make_client(UserFactory())
    assert phone.get("/api/v1/ping").status_code == 200
    assert second.get("/api/v1/ping").status_code == 200
    assert queries_of(phone)[1] == 0  # served from the cache

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"mysql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}",
        "TOKEN_CACHE_SECONDS": "60",
        "DJANGO_SETTINGS_MODULE": "wechathhu.settings",
    }
    script = (
        "import django; django.setup()\n"
        "from accounts.models import AuthToken, User\n"
        "from accounts.services.tokens import token_revoke\n"
        f"token_revoke(token=AuthToken.objects.get(pk={phone.token.pk}))\n"
        f"u = User.objects.get(pk={second.token.user_id}); u.is_active = False; u.save()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=120)  # noqa: S603

    assert phone.get("/api/v1/ping").status_code == 401
    assert second.get("/api/v1/ping").status_code == 401


def test_the_current_user_is_answered_without_sql_from_the_cache(cached, make_client, user):
    phone = make_client(user)
    phone.get("/api/v1/ping")
    response, count = queries_of(phone, "/current-user/")
    assert response.status_code == 200 and response.json()["id"] == user.pk
    assert count == 0


def test_the_users_groups_are_read_again_when_they_change(cached, make_client, user):
    from django.contrib.auth.models import Group

    phone = make_client(user)
    assert phone.get("/current-user/").json()["groups"] == []
    senders = Group.objects.create(name="测试组甲")
    user.groups.add(senders)
    assert phone.get("/current-user/").json()["groups"] == [senders.pk]
    other = Group.objects.create(name="测试组乙")
    other.user_set.add(user)
    assert sorted(phone.get("/current-user/").json()["groups"]) == sorted([senders.pk, other.pk])
    senders.delete()
    assert phone.get("/current-user/").json()["groups"] == [other.pk]
    other.user_set.clear()
    assert phone.get("/current-user/").json()["groups"] == []


@pytest.mark.parametrize("cache_on", [False, True])
def test_a_password_change_signs_every_other_device_out_on_the_next_request(
    settings, make_client, user, password, cache_on
):
    from django.test import Client

    settings.TOKEN_CACHE_SECONDS = 60 if cache_on else 0
    phone, tablet = make_client(user, device="A"), make_client(user, device="B")
    browser = Client()
    browser.force_login(user)
    for client in (phone, tablet, browser):
        assert client.get("/current-user/", HTTP_ACCEPT="application/json").status_code == 200
    payload = {
        "first_name": "三",
        "last_name": "张",
        "password": "a-new-long-passphrase",
        "old_password": password,
    }
    assert phone.put("/current-user/", payload).status_code == 200
    assert phone.get("/current-user/").status_code == 200  # the device that changed it stays
    assert tablet.get("/current-user/").status_code == 401
    assert browser.get("/current-user/", HTTP_ACCEPT="application/json").status_code in (401, 403)
    assert list(AuthToken.objects.filter(user=user)) == [phone.token]


def test_staff_setting_a_password_in_the_admin_signs_every_device_out(
    cached, client, make_client, user, superuser
):
    phone = make_client(user)
    assert phone.get("/api/v1/ping").status_code == 200
    client.force_login(superuser)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert phone.get("/api/v1/ping").status_code == 401
