"""Thin Celery tasks for guides: load by id, call the service."""

from celery import Task, shared_task

from . import services


class MailRequestTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Retries used up (or a hard error): the request is marked failed, never lost silently."""
        mail_request_id = kwargs.get("mail_request_id") or (args[0] if args else None)
        if mail_request_id is not None:
            services.guide_mail_request_mark_failed(
                mail_request_id=mail_request_id, error=f"{type(exc).__name__}: {exc}"
            )


@shared_task(
    name="guides.send_mail_request",
    base=MailRequestTask,
    autoretry_for=(services.MailDeliveryError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
    acks_late=True,
)
def send_mail_request_task(*, mail_request_id: int) -> str:
    """Send one guide mail request (a no-op unless it is still pending)."""
    result = services.guide_mail_request_send(mail_request_id=mail_request_id)
    return result.status if result is not None else "skipped"


@shared_task(name="guides.resend_pending", soft_time_limit=120, time_limit=150)
def resend_pending_task() -> int:
    """Queue again guide mails still pending (e.g. made while the broker was down)."""
    return services.guide_mail_request_requeue_stale()
