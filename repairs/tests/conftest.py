"""Fixtures of the repairs tests: images to upload and an SMTP server that fails on demand."""

import io
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from conftest import _free_port, _Inbox


def make_image(name="photo.png", image_format="PNG", size=(16, 16)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg"}.get(image_format, "application/octet-stream")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


class _FlakyInbox(_Inbox):
    """Answers the first ``failures`` messages with a temporary error (451), then accepts."""

    def __init__(self, failures):
        super().__init__()
        self.failures = failures
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refused < self.failures:
            self.refused += 1
            return "451 Temporary local problem, try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def flaky_smtp_server(settings):
    """A real SMTP server that refuses the first two messages with a temporary error."""
    inbox = _FlakyInbox(failures=2)
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(settings):
    """SMTP configured against a port nobody listens on (connection refused)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def hanging_smtp_port():
    """A loopback port where an SMTP server hangs: connections are taken (the kernel completes
    them) but no greeting ever comes."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        yield listener.getsockname()[1]
