"""Periodic work for meeting rooms (scheduled in ``wechathhu/celery.py``)."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="reservations.send_reminders",
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def send_reminders() -> int:
    """Every 5 minutes: remind bookers of meetings about to start (each booking once)."""
    return services.reservation_send_due_reminders()
