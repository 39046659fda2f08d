"""The admin's side of attachments and templates: files on the compose form (checked by their bytes,
nothing sent when one is refused), removal in the inline, templates managed and used to compose."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging import attachments, templates_service
from messaging.models import Message, MessageAttachment, MessageTemplate

pytestmark = pytest.mark.django_db

ADD = reverse("admin:messaging_message_add")
PDF = b"%PDF-1.4\n%%EOF\n" + b"y" * 40


def compose(**fields):
    now = timezone.localtime()
    return {
        "title": "期末考试安排",
        "content": "请查看附件",
        "type": "announcement",
        "priority": "high",
        "published_at_0": now.strftime("%Y-%m-%d"),
        "published_at_1": now.strftime("%H:%M:%S"),
        "expires_at_0": "",
        "expires_at_1": "",
        **fields,
    }


def test_compose_with_files(admin_client, superuser):
    recipient = UserFactory()
    response = admin_client.post(
        ADD,
        compose(
            recipients=[recipient.pk],
            files=[SimpleUploadedFile("安排.pdf", PDF), SimpleUploadedFile("b.pdf", PDF)],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    message = Message.objects.get()
    assert sorted(MessageAttachment.objects.filter(message=message).values_list("file_name", flat=True)) == [
        "b.pdf",
        "安排.pdf",
    ]
    change = admin_client.get(reverse("admin:messaging_message_change", args=[message.pk])).content.decode()
    assert "安排.pdf" in change and "/attachments/" in change


def test_a_refused_file_is_a_form_error_and_nothing_is_sent(admin_client):
    recipient = UserFactory()
    response = admin_client.post(
        ADD, compose(recipients=[recipient.pk], files=[SimpleUploadedFile("图.png", b"plain text")])
    )
    assert response.status_code == 200
    assert "图.png" in response.content.decode()
    assert not Message.objects.exists()


def test_the_sender_removes_a_file_in_the_inline(admin_client, superuser, django_capture_on_commit_callbacks):
    recipient = UserFactory()
    admin_client.post(ADD, compose(recipients=[recipient.pk], files=[SimpleUploadedFile("a.pdf", PDF)]))
    message = Message.objects.get()
    attachment = message.attachments.get()
    url = reverse("admin:messaging_message_change", args=[message.pk])
    now = timezone.localtime(message.published_at)
    data = compose(
        published_at_0=now.strftime("%Y-%m-%d"),
        published_at_1=now.strftime("%H:%M:%S"),
        **{
            "attachments-TOTAL_FORMS": "1",
            "attachments-INITIAL_FORMS": "1",
            "attachments-MIN_NUM_FORMS": "0",
            "attachments-MAX_NUM_FORMS": "0",
            "attachments-0-id": str(attachment.pk),
            "attachments-0-message": str(message.pk),
            "attachments-0-DELETE": "on",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not MessageAttachment.objects.exists()


def test_templates_admin_and_compose_from_a_template(admin_client, superuser):
    response = admin_client.post(
        reverse("admin:messaging_messagetemplate_add"),
        {
            "name": "班会",
            "title": "{姓名}：班会",
            "content": "{班级}",
            "type": "reminder",
            "priority": "normal",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    template = MessageTemplate.objects.get()
    assert template.owner.is_superuser  # the signed-in administrator
    refused = admin_client.post(
        reverse("admin:messaging_messagetemplate_add"),
        {"name": "错", "title": "{性名}", "content": "", "type": "reminder", "priority": "normal"},
    )
    assert refused.status_code == 200 and "{性名}" in refused.content.decode()
    listing = admin_client.get(reverse("admin:messaging_messagetemplate_changelist")).content.decode()
    assert f"?template={template.pk}" in listing
    form = admin_client.get(ADD, {"template": template.pk}).content.decode()
    assert "{姓名}：班会" in form


def test_other_senders_do_not_see_private_templates(client):
    owner = UserFactory(is_staff=True)
    other = UserFactory(is_staff=True)
    private = templates_service.template_create(owner=owner, name="私有", title="a")
    client.force_login(other)
    assert client.get(reverse("admin:messaging_messagetemplate_change", args=[private.pk])).status_code == 302
    assert "私有" not in client.get(reverse("admin:messaging_messagetemplate_changelist")).content.decode()


def test_inline_is_absent_without_files(admin_client, superuser):
    message = attachments.Message.objects.create(title="无附件", sender=superuser)
    page = admin_client.get(reverse("admin:messaging_message_change", args=[message.pk])).content.decode()
    assert "attachments-TOTAL_FORMS" not in page
