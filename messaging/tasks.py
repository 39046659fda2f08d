"""Background work of the message center: publishing due messages and WeChat delivery.

Idempotent through ``Message.publish_processed_at``: the service locks the row, skips a message
already processed, and sets the marker in the same transaction.
"""

from celery import Task, shared_task
from django.conf import settings

from wechathhu.integrations.wechat import WeChatUnavailable

from . import services


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


class DeliveryTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Retries exhausted (or an unexpected error): the queued rows are marked failed, not lost."""
        services.message_deliveries_fail_queued(
            message_id=kwargs["message_id"], reason=f"投递失败：{exc}"[:255] if str(exc) else "投递失败。"
        )


@shared_task(
    base=DeliveryTask,
    name="messaging.deliver_wechat",
    time_limit=600,
    soft_time_limit=580,
    autoretry_for=(WeChatUnavailable,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def message_deliver_wechat_task(*, message_id: int) -> int:
    """Send a message's queued WeChat subscribe messages; retried with backoff while WeChat is down."""
    return services.message_deliver_wechat(message_id=message_id)
