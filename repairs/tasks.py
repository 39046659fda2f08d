"""Thin Celery tasks for repairs: load by id, call the service."""

import smtplib

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(
    name="repairs.send_notification",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=60,  # 60 s, 120 s, 240 s … between attempts
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=settings.REPAIRS_MAIL_MAX_RETRIES,
    soft_time_limit=45,
    time_limit=60,
    acks_late=True,
)
def send_notification_task(*, notification_id: int) -> None:
    """Send one new-request mail (a no-op once it is sent; failures are recorded on the row)."""
    services.repair_notification_send(notification_id=notification_id)


@shared_task(name="repairs.resend_notifications", soft_time_limit=50, time_limit=60)
def resend_notifications_task() -> int:
    """Queue again the new-request mail still unsent (broker or SMTP was down)."""
    return services.repair_notifications_resend_due()


@shared_task(name="repairs.autoclose_solved", soft_time_limit=240, time_limit=300)
def autoclose_solved_task() -> int:
    """Close solved requests nobody confirmed within ``REPAIRS_AUTO_CLOSE_DAYS``."""
    return services.repair_requests_autoclose()
