"""Publishing: ``messaging.publish_due`` (beat, every minute) and ``messaging.publish_message``."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging import selectors, services
from messaging.models import Message
from messaging.tasks import message_publish_due_task, message_publish_task
from messaging.tests.factories import GlobalMessageFactory, MessageFactory
from wechathhu.celery import app

pytestmark = pytest.mark.django_db


def test_tasks_are_registered_under_their_names():
    assert "messaging.publish_due" in app.tasks
    assert "messaging.publish_message" in app.tasks
    assert app.conf.beat_schedule["messaging-publish-due"]["task"] == "messaging.publish_due"


def test_publish_due_counts_the_audience_of_global_messages_at_publish_time():
    UserFactory.create_batch(3)
    UserFactory(is_active=False)
    due = GlobalMessageFactory(sender=None, published_at=timezone.now() - timedelta(minutes=1))
    later = GlobalMessageFactory(sender=None, published_at=timezone.now() + timedelta(hours=1))

    assert message_publish_due_task.delay().get() == 1

    due.refresh_from_db()
    later.refresh_from_db()
    assert due.publish_processed_at is not None
    assert due.audience_size == 3  # active users only
    assert later.publish_processed_at is None
    # Users who join afterwards do not change the denominator.
    UserFactory.create_batch(2)
    assert message_publish_due_task.delay().get() == 0
    due.refresh_from_db()
    assert due.audience_size == 3


def test_publishing_is_idempotent_through_the_marker():
    message = MessageFactory(audience_size=7)
    assert message_publish_task.delay(message_id=message.pk).get() is True
    first = Message.objects.get(pk=message.pk).publish_processed_at
    assert message_publish_task.delay(message_id=message.pk).get() is False
    assert Message.objects.get(pk=message.pk).publish_processed_at == first
    assert Message.objects.get(pk=message.pk).audience_size == 7  # targeted: rows counted at send time


def test_withdrawn_messages_are_not_published():
    GlobalMessageFactory(is_active=False)
    assert message_publish_due_task.delay().get() == 0


def test_moving_the_publish_time_rearms_publishing(django_capture_on_commit_callbacks):
    message = GlobalMessageFactory()
    services.message_publish(message_id=message.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_update(
            message=message, data={"published_at": timezone.now() + timedelta(days=1), "title": "改期"}
        )
    message.refresh_from_db()
    assert message.publish_processed_at is None and message.title == "改期"


def test_withdraw_and_republish(user, django_capture_on_commit_callbacks):
    message = GlobalMessageFactory(published_at=timezone.now() - timedelta(days=1))
    services.message_withdraw(message=message)
    assert not selectors.message_inbox(user=user).count()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_republish(message=message)
    message.refresh_from_db()
    assert message.is_active and message.publish_processed_at is not None
    assert message.published_at > timezone.now() - timedelta(minutes=1)
    assert selectors.message_inbox(user=user).count() == 1


def test_republishing_an_expired_message_is_refused():
    now = timezone.now()
    message = MessageFactory(
        published_at=now - timedelta(days=2), expires_at=now - timedelta(days=1), is_active=False
    )
    with pytest.raises(Exception, match="消息已过期"):
        services.message_republish(message=message)
