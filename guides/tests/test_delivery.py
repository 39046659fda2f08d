"""Delivery through a real SMTP server (aiosmtpd) and through an unreachable broker."""

from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from conftest import _free_port
from guides import services
from guides.models import GuideMailRequest, MailDelivery
from wechathhu.celery import app as celery_app
from wechathhu.core import outbox
from wechathhu.core.outbox import DeliveryStatus

LABEL = GuideMailRequest._meta.label


def post_email(client, guide):
    return client.post(reverse("guides:guide-email", kwargs={"pk": guide.pk}))


@pytest.mark.django_db
def test_a_real_smtp_server_receives_the_guide_attached_byte_for_byte(
    smtp_server, api_client, user, guide, pdf_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_email(api_client, guide).status_code == 200

    [received] = smtp_server.messages
    assert received["To"] == user.email
    assert str(make_header(decode_header(received["Subject"]))) == "教职工请假审批流程 - 服务指南文件传送"
    text = next(p for p in received.walk() if p.get_content_type() == "text/plain")
    assert "【请假流程.pdf】" in text.get_payload(decode=True).decode(text.get_content_charset())
    [attachment] = [p for p in received.walk() if p.get_filename()]
    assert attachment.get_filename() == "请假流程.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == pdf_bytes
    assert GuideMailRequest.objects.get().status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_a_real_smtp_server_receives_a_docx_with_its_office_mime_type(
    smtp_server, api_client, docx_guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_email(api_client, docx_guide)
    [attachment] = [p for p in smtp_server.messages[0].walk() if p.get_filename()]
    assert attachment.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert attachment.get_payload(decode=True) == docx_guide.file.open("rb").read()


@pytest.mark.django_db
def test_smtp_down_the_request_is_answered_the_error_kept_and_staff_can_send_it_now(
    settings, smtp_server, api_client, guide, django_capture_on_commit_callbacks
):
    live_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _free_port()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_email(api_client, guide).status_code == 200  # answered although SMTP is down

    record = GuideMailRequest.objects.get()
    assert (record.status, record.attempts) == (DeliveryStatus.QUEUED, 1)  # waiting for its retry
    assert "Connection" in record.last_error or "refused" in record.last_error.lower()
    assert record.next_attempt_at > timezone.now()

    settings.EMAIL_PORT = live_port
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry(GuideMailRequest.objects.all()) == 1  # staff: send it now
    record.refresh_from_db()
    assert (record.status, record.delivery) == (DeliveryStatus.SENT, MailDelivery.ATTACHMENT)
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_a_refused_recipient_fails_at_once_without_retries(
    settings, smtp_server, make_client, guide, django_capture_on_commit_callbacks
):
    from accounts.tests.factories import UserFactory

    client = make_client(UserFactory(email="nobody@example.edu.cn"))

    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 No such user"

    smtp_server.handle_RCPT = refuse
    with django_capture_on_commit_callbacks(execute=True):
        post_email(client, guide)
    record = GuideMailRequest.objects.get()
    assert (record.status, record.attempts) == (DeliveryStatus.FAILED, 1)
    assert "收件地址被拒绝" in record.last_error


@pytest.mark.django_db
def test_broker_down_the_request_is_answered_and_the_mail_goes_out_later(
    broker_down, api_client, guide, pdf_bytes, django_capture_on_commit_callbacks
):
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_email(api_client, guide)
    assert response.status_code == 200
    assert (timezone.now() - started).total_seconds() < 3
    assert mail.outbox == []
    record = GuideMailRequest.objects.get()
    assert (record.status, record.attempts) == (DeliveryStatus.QUEUED, 0)

    # The broker is back; the periodic sweep finds the request once its own task had its chance.
    celery_app.conf.task_always_eager = True
    sweep = celery_app.tasks["outbox.sweep"]
    assert sweep.apply().get() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=15)):
        assert sweep.apply().get() == 1
    [message] = mail.outbox
    assert message.attachments[0][1] == pdf_bytes
    record.refresh_from_db()
    assert record.status == DeliveryStatus.SENT
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert sweep.apply().get() == 0  # sent: never again
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_sending_is_idempotent(guide, user):
    record = GuideMailRequest.objects.create(user=user, guide=guide, guide_name=guide.name, email=user.email)
    assert outbox.deliver(LABEL, [record.pk]) == {"sent": 1}
    assert outbox.deliver(LABEL, [record.pk]) == {"not_ours": 1}
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_request_for_a_guide_unpublished_meanwhile_is_not_sent(guide, user):
    record = GuideMailRequest.objects.create(user=user, guide=guide, guide_name=guide.name, email=user.email)
    services.guide_set_published(guide_ids=[guide.pk], published=False)
    outbox.deliver(LABEL, [record.pk])
    record.refresh_from_db()
    assert (record.status, record.reason) == (DeliveryStatus.FAILED, "unpublished")
    assert mail.outbox == []
