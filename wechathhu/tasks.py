"""The project's own Celery tasks: the outbox's sender and its periodic sweep (thin)."""

from celery import shared_task

from wechathhu.core import outbox


@shared_task(name="outbox.deliver", acks_late=True, soft_time_limit=240, time_limit=270)
def outbox_deliver_task(*, model: str, ids: list[int]) -> dict[str, int]:
    """Send these outbox rows one at a time (each claimed first, so a re-run sends nothing twice).

    A worker that dies mid-batch leaves at most the row in flight under its lease; the sweep
    sends it again once the lease expires, and the rest of the batch as soon as they are due.
    """
    return outbox.deliver(model, ids)


@shared_task(name="outbox.sweep", soft_time_limit=50, time_limit=60)
def outbox_sweep_task() -> int:
    """Every minute (beat): queue every due outbox row again, fail those past the give-up window."""
    return outbox.sweep()
