"""Real threads against MariaDB: concurrent uploads never pass the per-message attachment limit
(the count is checked with the message row locked)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messaging import attachments
from messaging.models import MessageAttachment
from messaging.tests.factories import MessageFactory
from messaging.tests.test_concurrency import run_in_threads

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n%%EOF\n"


def test_concurrent_uploads_stop_at_the_limit(settings):
    settings.MESSAGING_ATTACHMENT_MAX_COUNT = 9
    message = MessageFactory()
    refused = []

    def upload(i):
        try:
            attachments.attachments_add(
                message=message,
                uploads=[SimpleUploadedFile(f"{i}.pdf", PDF), SimpleUploadedFile("b.pdf", PDF)],
            )
        except attachments.AttachmentRefused:
            refused.append(i)

    assert run_in_threads(upload, 8) == []
    # Pairs of files: four requests fit (8 files), the others are refused whole.
    assert MessageAttachment.objects.filter(message=message).count() == 8
    assert len(refused) == 4
