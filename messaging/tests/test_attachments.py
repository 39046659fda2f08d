"""Message attachments (issue 20 item 4): refused by content, count and size; sender-only upload and
removal (403 / 404); downloads only by people who can see the message, with ETag and ranges; listed
on every message shape in a constant number of queries."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.tests.factories import UserFactory
from messaging import attachments, services
from messaging.models import MessageAttachment
from messaging.tests.conftest import grant
from messaging.tests.envelope import assert_error
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("messaging:message-list")
ADMIN_LIST = reverse("messaging:admin-message-list")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 200


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name="通知.pdf", content=PDF, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def upload_url(message):
    return reverse("messaging:admin-message-attachments", kwargs={"pk": message.pk})


def post_files(client, message, *files):
    return client.post(upload_url(message), {"files": list(files)}, format="multipart")


@pytest.fixture
def sender(db):
    return UserFactory(is_staff=True, kind="staff")


@pytest.fixture
def student(db):
    return UserFactory(kind="student")


@pytest.fixture
def message(sender, student):
    message = MessageFactory(sender=sender, title="期末考试安排")
    MessageRecipientFactory(message=message, recipient=student)
    return message


def test_sender_uploads_files_recognised_by_their_bytes(bearer, sender, message):
    response = post_files(
        bearer(sender),
        message,
        upload("考试安排.pdf"),
        upload("照片.jpg", png_bytes(), "image/jpeg"),  # a PNG named .jpg: stored as what it is
    )
    body = response.json()
    assert response.status_code == 201, body
    assert [(a["name"], a["type"], a["size"]) for a in body["data"]] == [
        ("考试安排.pdf", "application/pdf", len(PDF)),
        ("照片.png", "image/png", len(png_bytes())),
    ]
    stored = MessageAttachment.objects.filter(message=message).order_by("id")
    assert [a.file.name.rsplit(".", 1)[1] for a in stored] == ["pdf", "png"]
    assert all("考试" not in a.file.name for a in stored)  # opaque names in the storage


@pytest.mark.parametrize(
    ("name", "content", "error_code"),
    [
        ("伪装.png", b"this is plain text, not a picture", "attachment_refused"),
        ("脚本.pdf", b"<script>alert(1)</script>", "attachment_refused"),
        ("空.pdf", b"", "attachment_refused"),
        ("假图.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "attachment_refused"),
    ],
)
def test_files_are_refused_by_their_content(bearer, sender, message, name, content, error_code):
    body = assert_error(post_files(bearer(sender), message, upload(name, content)), 400, error_code)
    assert name in body["message"]
    assert not MessageAttachment.objects.exists()


def test_a_type_not_in_the_settings_is_refused(bearer, sender, message, settings):
    settings.MESSAGING_ATTACHMENT_TYPES = ["pdf"]
    assert_error(post_files(bearer(sender), message, upload("a.png", png_bytes())), 400, "attachment_refused")


def test_oversize_files_are_refused(bearer, sender, message, settings):
    settings.MESSAGING_ATTACHMENT_MAX_BYTES = 100
    body = assert_error(post_files(bearer(sender), message, upload()), 400, "attachment_too_large")
    assert "过大" in body["message"]


def test_the_tenth_file_is_refused_and_a_request_is_all_or_nothing(bearer, sender, message):
    client = bearer(sender)
    assert post_files(client, message, *[upload(f"{i}.pdf") for i in range(8)]).status_code == 201
    # Two more would make ten: neither is stored.
    body = assert_error(
        post_files(client, message, upload("9.pdf"), upload("10.pdf")), 400, "too_many_attachments"
    )
    assert "最多 9 个" in body["message"]
    assert MessageAttachment.objects.filter(message=message).count() == 8
    assert post_files(client, message, upload("9.pdf")).status_code == 201
    assert_error(post_files(client, message, upload("10.pdf")), 400, "too_many_attachments")
    assert MessageAttachment.objects.filter(message=message).count() == 9


def test_a_bad_file_in_a_batch_stores_none(bearer, sender, message):
    assert_error(post_files(bearer(sender), message, upload("a.pdf"), upload("b.png", b"text")), 400)
    assert not MessageAttachment.objects.exists()


def test_only_the_sender_uploads_or_removes(
    bearer, sender, message, superuser, student, django_capture_on_commit_callbacks
):
    other_sender = UserFactory(is_staff=True, kind="staff")
    # A message-center administrator sees the message: 403; another sender does not: 404.
    assert_error(post_files(bearer(superuser), message, upload()), 403, "not_the_sender")
    assert_error(post_files(bearer(other_sender), message, upload()), 404)
    assert_error(post_files(bearer(student), message, upload()), 403)  # not a sender at all
    attachment = attachments.attachments_add(message=message, uploads=[upload()], user=sender)[0]
    url = reverse(
        "messaging:admin-message-attachment-detail", kwargs={"pk": message.pk, "attachment_id": attachment.pk}
    )
    assert_error(bearer(superuser).delete(url), 403, "not_the_sender")
    assert_error(bearer(other_sender).delete(url), 404)
    stored_name = attachment.file.name
    storage = attachment.file.storage
    assert storage.exists(stored_name)
    with django_capture_on_commit_callbacks(execute=True):
        assert bearer(sender).delete(url).status_code == 200
    assert not MessageAttachment.objects.exists()
    assert not storage.exists(stored_name)


def _download_url(attachment):
    return reverse(
        "messaging:message-attachment-download",
        kwargs={"pk": attachment.message_id, "attachment_id": attachment.pk},
    )


def test_recipients_download_with_chinese_name_etag_and_ranges(bearer, sender, message, student):
    attachment = attachments.attachments_add(message=message, uploads=[upload("考试安排.pdf")], user=sender)[
        0
    ]
    client = bearer(student)
    response = client.get(_download_url(attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''%E8%80%83%E8%AF%95%E5%AE%89%E6%8E%92.pdf" in response["Content-Disposition"]
    etag = response["ETag"]
    assert etag == f'"{attachment.file_sha256}"'
    assert client.get(_download_url(attachment), HTTP_IF_NONE_MATCH=etag).status_code == 304
    partial = client.get(_download_url(attachment), HTTP_RANGE="bytes=0-3")
    assert partial.status_code == 206
    assert b"".join(partial.streaming_content) == b"%PDF"
    assert partial["Content-Range"] == f"bytes 0-3/{len(PDF)}"
    assert client.get(_download_url(attachment), HTTP_RANGE=f"bytes={len(PDF) + 5}-").status_code == 416
    # The sender downloads too.
    assert bearer(sender).get(_download_url(attachment)).status_code == 200


def test_people_who_cannot_see_the_message_get_404(bearer, sender, message):
    attachment = attachments.attachments_add(message=message, uploads=[upload()], user=sender)[0]
    stranger = UserFactory(kind="student")
    assert_error(bearer(stranger).get(_download_url(attachment)), 404)
    other_sender = UserFactory(is_staff=True, kind="staff")
    assert_error(bearer(other_sender).get(_download_url(attachment)), 404)
    # A wrong message id for the attachment: 404 even for the sender.
    other = MessageFactory(sender=sender)
    wrong = reverse(
        "messaging:message-attachment-download", kwargs={"pk": other.pk, "attachment_id": attachment.pk}
    )
    assert_error(bearer(sender).get(wrong), 404)
    # Withdrawn: recipients no longer see it (nor its files).
    services.message_withdraw(message=message)
    assert_error(bearer(message.recipients.first().recipient).get(_download_url(attachment)), 404)


def test_global_message_attachments_are_for_everyone(bearer, sender):
    message = GlobalMessageFactory(sender=sender)
    attachment = attachments.attachments_add(message=message, uploads=[upload()], user=sender)[0]
    assert bearer(UserFactory()).get(_download_url(attachment)).status_code == 200


def test_every_message_shape_lists_attachments(bearer, sender, message, student):
    attachments.attachments_add(message=message, uploads=[upload("a.pdf")], user=sender)
    expected = {"name": "a.pdf", "size": len(PDF), "type": "application/pdf"}
    inbox = bearer(student).get(INBOX).json()["data"]["messages"][0]["attachments"]
    detail = bearer(student).get(reverse("messaging:message-detail", kwargs={"pk": message.pk})).json()
    admin = bearer(sender).get(ADMIN_LIST).json()["data"]["messages"][0]["attachments"]
    admin_detail = bearer(sender).get(
        reverse("messaging:admin-message-full-detail", kwargs={"pk": message.pk})
    )
    for listed in (inbox, detail["data"]["attachments"], admin, admin_detail.json()["data"]["attachments"]):
        assert len(listed) == 1
        assert {k: listed[0][k] for k in expected} == expected
        assert listed[0]["url"].endswith(f"/messages/{message.pk}/attachments/{listed[0]['id']}")


def test_lists_with_attachments_take_constant_queries(bearer, sender, student, django_assert_num_queries):
    client, sender_client = bearer(student), bearer(sender)

    def add(n_files):
        message = MessageFactory(sender=sender)
        MessageRecipientFactory(message=message, recipient=student)
        attachments.attachments_add(message=message, uploads=[upload() for _ in range(n_files)], user=sender)

    add(1)
    # token, count, page ids, page rows, attachments
    with django_assert_num_queries(5):
        assert len(client.get(INBOX).json()["data"]["messages"]) == 1
    # token, the sender's permissions (user, groups), count, page, attachments
    with django_assert_num_queries(6):
        assert len(sender_client.get(ADMIN_LIST).json()["data"]["messages"]) == 1
    for n in range(2, 7):
        add(n)
    with django_assert_num_queries(5):
        assert len(client.get(INBOX).json()["data"]["messages"]) == 6
    with django_assert_num_queries(6):
        assert len(sender_client.get(ADMIN_LIST).json()["data"]["messages"]) == 6


def test_a_sender_granted_the_role_can_attach(bearer, student):
    teacher = grant(UserFactory(kind="teacher"), "send")
    message = services.message_create(sender=teacher, title="班会", recipient_ids=[student.pk])
    assert post_files(bearer(teacher), message, upload()).status_code == 201


def test_deleting_a_message_removes_its_files(sender, message, django_capture_on_commit_callbacks):
    attachment = attachments.attachments_add(message=message, uploads=[upload()], user=sender)[0]
    storage, name = attachment.file.storage, attachment.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete(message=message)
    assert not storage.exists(name)
