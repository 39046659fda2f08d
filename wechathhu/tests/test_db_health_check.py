"""MariaDB connections are health-checked at most every ``DB_HEALTH_CHECK_INTERVAL`` seconds
(``wechathhu.db.mysql``, issue 18), through Django's own request cycle (its signals close or check
persistent connections at each request's start and end)."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, connection, connections

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


def next_request():
    request_finished.send(sender=None)
    request_started.send(sender=None)


def server_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        return cursor.fetchone()[0]


def pings() -> int:
    """COM_PING counts among the session's admin commands."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Com_admin_commands'")
        return int(cursor.fetchone()[1])


def kill(pk: int) -> None:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("KILL %s", [pk])
    finally:
        other.close()


def test_the_engine_is_the_projects_backend():
    assert connection.settings_dict["ENGINE"] == "wechathhu.db.mysql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] and connection.settings_dict["CONN_MAX_AGE"]


@pytest.mark.parametrize(("interval", "expected"), [(60, 0), (0, 1)])
def test_a_connection_checked_within_the_interval_is_not_pinged_again(settings, interval, expected):
    settings.DB_HEALTH_CHECK_INTERVAL = interval
    first = server_id()
    before = pings()
    next_request()
    assert pings() - before == expected
    assert server_id() == first


def test_a_dropped_connection_is_replaced_at_the_next_check(settings):
    settings.DB_HEALTH_CHECK_INTERVAL = 0
    first = server_id()
    kill(first)
    next_request()
    assert server_id() != first


def test_within_the_interval_a_dropped_connection_fails_one_request_then_is_replaced(settings):
    settings.DB_HEALTH_CHECK_INTERVAL = 60
    first = server_id()
    kill(first)
    next_request()
    with pytest.raises(OperationalError):
        server_id()
    next_request()  # the failed request's end closes it (Django's errors_occurred check)
    assert server_id() != first
