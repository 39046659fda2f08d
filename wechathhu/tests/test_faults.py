"""Faults of the outside world and of the backends: clean answers, nothing lost or half-written."""

import logging
import threading
from datetime import timedelta

import pytest
import requests
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import AuthToken
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on port 9: Redis as seen by a process when it is down


def redis_cache(location: str, *, timeout: float) -> dict:
    """``CACHES`` with the default cache, and the throttles' (as the settings do with Redis), on
    the Redis at ``location`` (overriding ``CACHES`` resets Django's cache handler)."""
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": location,
        "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
    }
    return {"default": redis, "throttle": redis}


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a Redis that does not answer."""
    settings.CACHES = redis_cache(DEAD_REDIS, timeout=0.2)


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


@pytest.mark.redis
def test_logins_survive_redis_stopping_and_are_throttled_again_once_it_is_back(
    redis_server, settings, anon_client, password, caplog
):
    settings.CACHES = redis_cache(redis_server.url, timeout=0.5)
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "login": "3/min"},
    }
    user = UserFactory()

    def login(secret):
        return anon_client.post(
            "/auth/get-token/", {"username": user.username, "password": secret}
        ).status_code

    assert [login("wrong") for _ in range(4)] == [400, 400, 400, 429]

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="wechathhu.api.throttling"):
        assert login(password) == 201  # the throttle cannot count: the login goes through
    assert "cache unavailable" in caplog.text

    # The same address, empty (it keeps nothing on disk); nothing of ours is restarted: the
    # client reconnects and the throttle counts from the first request.
    redis_server.start()
    assert [login("wrong") for _ in range(4)] == [400, 400, 400, 429]


def test_a_hanging_wechat_is_a_503_not_a_hang(wechat_api, anon_client):
    from conftest import WECHAT_BASE

    wechat_api.get(WECHAT_BASE + "sns/jscode2session", body=requests.ReadTimeout("read timed out"))
    response = anon_client.post("/auth/wechat-code2token/", {"code": "c"})
    assert response.status_code == 503
    assert response.json() == {
        "detail": "暂时无法连接微信服务器，请稍后重试。",
        "error_code": "wechat_unavailable",
    }


def deadlock_on_insert(table: str):
    """An execute wrapper that makes the database report a deadlock on the first INSERT into ``table``
    (the database itself stays real; this is how a deadlock reaches the code)."""
    fired = []

    def wrapper(execute, sql, params, many, context):
        if not fired and sql.lstrip().upper().startswith("INSERT") and table in sql:
            fired.append(sql)
            raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")
        return execute(sql, params, many, context)

    return wrapper


def test_a_database_deadlock_is_a_503_and_nothing_is_half_written(anon_client, password):
    user = UserFactory()
    with connection.execute_wrapper(deadlock_on_insert("accounts_authtoken")):
        response = anon_client.post("/auth/get-token/", {"username": user.username, "password": password})
    assert response.status_code == 503
    assert response.json() == {"detail": "服务繁忙，请稍后重试。", "error_code": "service_unavailable"}
    assert response["Retry-After"] == "2"
    assert not AuthToken.objects.filter(user=user).exists()
    # and once the database is healthy again the same request succeeds
    assert (
        anon_client.post("/auth/get-token/", {"username": user.username, "password": password}).status_code
        == 201
    )


def booking_body(room) -> dict:
    """The client's booking of ``room`` for an hour the day after tomorrow."""
    start = (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    return {
        "meetingroom_object": room.pk,
        "reserve_from": start.isoformat(),
        "reserve_to": (start + timedelta(hours=1)).isoformat(),
        "description": "组会",
    }


def test_a_booking_hit_by_a_deadlock_is_answered_503_and_the_retry_books_it_once(api_client, user):
    from reservations.models import Reservation
    from reservations.tests.factories import MeetingroomFactory

    room = MeetingroomFactory()
    body = booking_body(room)
    with connection.execute_wrapper(deadlock_on_insert("reservations_reservation")):
        response = api_client.post("/reservations/", body)
    assert response.status_code == 503
    assert not Reservation.objects.exists()
    assert api_client.post("/reservations/", body).status_code == 201
    assert Reservation.objects.filter(meetingroom=room, user=user).count() == 1


def test_an_enrollment_hit_by_a_deadlock_is_answered_503_and_the_retry_enrolls_once(api_client, user):
    from activities.models import Enrollment
    from activities.tests.factories import ActivityFactory

    activity = ActivityFactory(participants_total_limit=10)
    body = {"activity": activity.pk, "participating_metas": '{"姓名": "张三", "爱好": ["编程"]}'}
    with connection.execute_wrapper(deadlock_on_insert("activities_enrollment")):
        response = api_client.post("/enrollments/", body)
    assert response.status_code == 503
    assert not Enrollment.objects.exists()
    assert api_client.post("/enrollments/", body).status_code == 201
    assert Enrollment.objects.filter(activity=activity, user=user).count() == 1


def test_a_clock_in_hit_by_a_deadlock_is_answered_503_and_the_rescan_records_it_once(api_client, user):
    from activities.models import ClockinRecord
    from activities.qr import make_key
    from activities.tests.factories import ClockinItemFactory, EnrollmentFactory

    item = ClockinItemFactory()
    EnrollmentFactory(activity=item.activity, user=user)
    key = make_key(item.pk)
    with connection.execute_wrapper(deadlock_on_insert("activities_clockinrecord")):
        response = api_client.post("/activities/clockins/", {"key": key})
    assert response.status_code == 503
    assert not ClockinRecord.objects.exists()
    assert api_client.post("/activities/clockins/", {"key": key}).status_code == 200
    assert ClockinRecord.objects.filter(item=item, user=user).count() == 1


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_booking_kept_waiting_by_a_real_row_lock_is_a_503_and_the_retry_books_it_once(api_client, user):
    """Not a simulated error: another connection really holds the room's row lock past the
    database's lock-wait limit (InnoDB error 1205)."""
    from reservations.models import Meetingroom, Reservation
    from reservations.tests.factories import MeetingroomFactory

    room = MeetingroomFactory()
    body = booking_body(room)
    held, release = threading.Event(), threading.Event()

    def hold_the_room():
        try:
            with transaction.atomic():
                Meetingroom.objects.select_for_update().get(pk=room.pk)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_room)
    holder.start()
    try:
        assert held.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
        response = api_client.post("/reservations/", body)
    finally:
        release.set()
        holder.join(30)
        connection.close()  # the next connection has the configured lock wait again
    assert response.status_code == 503
    assert response.json() == {"detail": "服务繁忙，请稍后重试。", "error_code": "service_unavailable"}
    assert response["Retry-After"] == "2"
    assert not Reservation.objects.exists()

    assert api_client.post("/reservations/", body).status_code == 201
    assert Reservation.objects.filter(meetingroom=room, user=user).count() == 1
