"""Background work of conversations: writing a user's last seen time (a ping itself runs no SQL)."""

from celery import shared_task

from . import services


@shared_task(name="conversations.presence_persist", time_limit=30, soft_time_limit=20, ignore_result=True)
def presence_persist_task(*, user_id: int, seen_at: float) -> int:
    """Write ``User.last_seen_at`` (never backwards); enqueued at most once per
    ``CONVERSATIONS_LAST_SEEN_PERSIST_SECONDS`` per user by a ping. Idempotent."""
    return services.last_seen_persist(user_id=user_id, seen_at=seen_at)
