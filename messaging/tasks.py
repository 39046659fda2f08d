"""Background work of the message center: publishing due messages (delivery is the outbox's).

Idempotent through ``Message.publish_processed_at``: the service locks the row, skips a message
already processed, and sets the marker in the same transaction.
"""

from celery import shared_task
from django.conf import settings

from . import digest, services


@shared_task(name="messaging.publish_message", time_limit=60, soft_time_limit=50, acks_late=True)
def message_publish_task(*, message_id: int) -> bool:
    """Publish one message now (queued after commit when a message is sent already due)."""
    return services.message_publish(message_id=message_id)


@shared_task(name="messaging.publish_due", time_limit=300, soft_time_limit=280)
def message_publish_due_task() -> int:
    """Every minute (beat): publish the scheduled messages whose time has come. Returns how many."""
    done = 0
    for message_id in services.message_ids_due_for_publishing(limit=settings.MESSAGING_PUBLISH_BATCH):
        done += services.message_publish(message_id=message_id)
    return done


@shared_task(name="messaging.send_reminders", time_limit=300, soft_time_limit=280)
def message_send_reminders_task() -> int:
    """Every 5 minutes (beat): the read-aware second pushes that are due. Returns rows written."""
    return sum(
        services.message_send_reminder(message_id=message_id)
        for message_id in services.message_ids_due_for_reminders(limit=settings.MESSAGING_PUBLISH_BATCH)
    )


@shared_task(name="messaging.digest_due", time_limit=120, soft_time_limit=100)
def digest_due_task() -> int:
    """Every minute (beat): the daily digests of the subscribers whose time has come."""
    return digest.digests_queue_due()
