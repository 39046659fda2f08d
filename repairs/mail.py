"""The new-request mail: what one ``RepairNotification`` sends (the outbox sends it)."""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import RepairNotification


def notification_message(notification: RepairNotification) -> EmailMessage:
    repair = notification.request
    reporter = repair.user
    context = {
        "notification": notification,
        "repair": repair,
        "reporter": reporter,
        "category_name": repair.category.name if repair.category else "未分类",
        "photo_count": repair.photos.count(),
        "created_local": timezone.localtime(repair.created_at),
        "due_local": timezone.localtime(repair.due_at),
        "admin_url": settings.SITE_URL + reverse("admin:repairs_repairrequest_change", args=[repair.pk]),
        "site_name": "HHU计信院教师微服务",
    }
    subject = render_to_string("repairs/email/new_request_subject.txt", context)
    body = render_to_string("repairs/email/new_request_body.txt", context).strip() + "\n"
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        to=[formataddr((notification.name, notification.email))],
        reply_to=[reporter.email] if reporter is not None and reporter.email else None,
    )


def notification_send(notification: RepairNotification) -> None:
    """The outbox's send of one new-request mail (SMTP errors are sorted by the outbox)."""
    notification_message(notification).send()
