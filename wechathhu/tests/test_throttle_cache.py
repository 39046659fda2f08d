"""Issue 16 item 22: the throttles count in a cache every process shares — Redis when there is one,
else a table of the database (created at every migrate) — never in one worker's memory."""

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from wechathhu.api.throttling import SettingsRateThrottle

pytestmark = pytest.mark.django_db


def another_worker_cache():
    """The throttle cache as another gunicorn worker builds it from the same settings."""
    from django.core.cache import CacheHandler

    return CacheHandler(settings.CACHES)["throttle"]


def test_the_throttle_cache_is_shared_by_every_process():
    config = settings.CACHES["throttle"]
    if settings.REDIS_URL:
        assert "Redis" in config["BACKEND"] and config["LOCATION"] == settings.REDIS_URL
    else:
        assert config["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert "LocMem" not in config["BACKEND"]
    assert SettingsRateThrottle.cache._alias == "throttle"


def test_a_worker_sees_the_attempts_counted_by_another(settings, password):
    """Login attempts made through one worker's cache are counted by a fresh one (another process):
    the limit is reached after N attempts in total, not N per worker."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/min"},
    }
    user = UserFactory()
    for _ in range(3):
        APIClient().post("/auth/get-token/", {"username": user.username, "password": "bad"})
    counted = another_worker_cache().get("throttle_login_127.0.0.1")  # the per-address counter
    assert counted is not None and len(counted) == 3
    assert (
        APIClient().post("/auth/get-token/", {"username": user.username, "password": password}).status_code
        == 429
    )


@pytest.fixture
def without_redis(settings):
    """The throttle cache of a deployment without Redis (whatever this test run is configured with)."""
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": settings.THROTTLE_CACHE_TABLE,
        },
    }


def test_migrate_creates_the_cache_table_once(without_redis, transactional_db):
    from django.core.management import call_command

    from wechathhu.apps import create_cache_tables

    assert isinstance(caches["throttle"], DatabaseCache)
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(settings.THROTTLE_CACHE_TABLE)}")
    call_command("migrate", verbosity=0)  # what make run, make deploy and the test database do
    assert settings.THROTTLE_CACHE_TABLE in connection.introspection.table_names()
    create_cache_tables(using="default")  # an existing table is left alone
    caches["throttle"].set("k", 1)
    assert caches["throttle"].get("k") == 1
