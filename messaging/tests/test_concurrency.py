"""Real threads against MariaDB: fan-out on read and delivery claims stay exact under races."""

import threading

import pytest
from django.db import close_old_connections, connection

from accounts.tests.factories import UserFactory
from messaging import selectors, services
from messaging.models import DeliveryChannel, DeliveryStatus, MessageDelivery, MessageRecipient
from messaging.tests.factories import GlobalMessageFactory, MessageFactory

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


def test_parallel_delivery_workers_send_each_row_once(settings, monkeypatch):
    settings.MESSAGING_DELIVERY_BATCH = 3
    settings.WECHAT_ENABLED = True
    settings.MESSAGING_WECHAT_TEMPLATE_ID = "TPL"
    message = MessageFactory(priority="urgent")
    users = UserFactory.create_batch(20)
    MessageDelivery.objects.bulk_create(
        [MessageDelivery(message=message, recipient=u, channel=DeliveryChannel.WECHAT) for u in users]
    )
    sent, lock = [], threading.Lock()

    def fake_send(*, openid, **kwargs):  # the outside world: WeChat's HTTP API
        with lock:
            sent.append(openid)

    monkeypatch.setattr(services.wechat, "send_subscribe_message", fake_send)
    for u in users:
        u.wechat_openid = f"openid-{u.pk}"
        u.save(update_fields=["wechat_openid"])

    assert run_in_threads(lambda i: services.message_deliver_wechat(message_id=message.pk), 4) == []

    assert sorted(sent) == sorted(f"openid-{u.pk}" for u in users)
    assert MessageDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 20
