"""Faults of the outside world and of the backends: clean answers, nothing lost or half-written."""

import logging

import pytest
import requests
from django.db import OperationalError, connection

from accounts.models import AuthToken
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on port 9: Redis as seen by a process when it is down


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a Redis that does not answer (overriding CACHES resets Django's handler)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


def test_login_still_works_when_redis_is_down(redis_down, anon_client, password, caplog):
    user = UserFactory()
    with caplog.at_level(logging.WARNING, logger="wechathhu.api.throttling"):
        response = anon_client.post("/auth/get-token/", {"username": user.username, "password": password})
    assert response.status_code == 201
    assert "cache unavailable" in caplog.text  # the throttle really met the outage, and let the login through
    client = anon_client.__class__()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/current-user/").status_code == 200


def test_wechat_login_still_works_when_redis_is_down(redis_down, wechat_api, anon_client):
    from conftest import WECHAT_BASE

    UserFactory(wechat_openid="o-1")
    wechat_api.get(WECHAT_BASE + "sns/jscode2session", json={"openid": "o-1"})
    assert anon_client.post("/auth/wechat-code2token/", {"code": "c"}).status_code == 201


def test_a_hanging_wechat_is_a_503_not_a_hang(wechat_api, anon_client):
    from conftest import WECHAT_BASE

    wechat_api.get(WECHAT_BASE + "sns/jscode2session", body=requests.ReadTimeout("read timed out"))
    response = anon_client.post("/auth/wechat-code2token/", {"code": "c"})
    assert response.status_code == 503
    assert response.json() == {"detail": "暂时无法连接微信服务器，请稍后重试。"}


def test_a_database_deadlock_is_a_503_and_nothing_is_half_written(anon_client, password):
    user = UserFactory()

    def deadlock_on_token_insert(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and "auth" in sql and "token" in sql:
            raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(deadlock_on_token_insert):
        response = anon_client.post("/auth/get-token/", {"username": user.username, "password": password})
    assert response.status_code == 503
    assert response.json() == {"detail": "服务繁忙，请稍后重试。"}
    assert response["Retry-After"] == "2"
    assert not AuthToken.objects.filter(user=user).exists()
    # and once the database is healthy again the same request succeeds
    assert (
        anon_client.post("/auth/get-token/", {"username": user.username, "password": password}).status_code
        == 201
    )
