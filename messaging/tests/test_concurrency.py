"""Real threads against MariaDB: fan-out on read stays exact under races (delivery claims are
the outbox's: wechathhu/tests/test_outbox.py)."""

import threading

import pytest
from django.db import close_old_connections, connection

from accounts.tests.factories import UserFactory
from messaging import selectors, services
from messaging.models import MessageRecipient
from messaging.tests.factories import GlobalMessageFactory

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


def run_in_threads(target, count):
    barrier = threading.Barrier(count)
    errors = []

    def worker(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_concurrent_reads_and_archives_of_a_global_message_leave_one_state_row():
    user = UserFactory()
    message = GlobalMessageFactory()

    def act(i):
        if i % 2:
            services.message_archive(user=user, message_ids=[message.pk])
        else:
            services.message_mark_read(user=user, message_ids=[message.pk])

    assert run_in_threads(act, 8) == []
    row = MessageRecipient.objects.get(message=message, recipient=user)
    assert row.read_at is not None and row.archived_at is not None
    assert selectors.message_unread_count(user=user) == 0
