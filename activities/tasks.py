"""Background work of activities: thin wrappers that load by id and call a service."""

from celery import Task, shared_task
from django.db import DatabaseError

from . import services


class _PromotionNoticeTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        services.enrollment_record_notice_failure(
            enrollment_ids=kwargs.get("enrollment_ids") or [], error=repr(exc)
        )


@shared_task(
    base=_PromotionNoticeTask,
    name="activities.notify_promoted",
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=3,
)
def notify_promoted_task(*, enrollment_ids: list[int]) -> int:
    """Message-center notices for people promoted from a waiting list (idempotent)."""
    return services.enrollment_notify_promoted(enrollment_ids=enrollment_ids)
