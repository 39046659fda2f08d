"""Thin Celery tasks for repairs: load by id, call the service (mail goes through the outbox)."""

from celery import shared_task

from . import services


@shared_task(name="repairs.autoclose_solved", soft_time_limit=240, time_limit=300)
def autoclose_solved_task() -> int:
    """Close solved requests nobody confirmed within ``REPAIRS_AUTO_CLOSE_DAYS``."""
    return services.repair_requests_autoclose()
