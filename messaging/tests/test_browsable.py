"""The DRF browsable API renders every message-center endpoint (with its forms)."""

import pytest
from django.urls import reverse

from messaging.tests.factories import MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "with_id", "allowed"),
    [
        ("message-list", False, True),
        ("message-read", False, False),
        ("message-archive", False, False),
        ("message-unread-count", False, True),
        ("message-stats", False, True),
        ("message-detail", True, True),
        ("admin-message-list", False, True),
        ("admin-message-global", False, False),
        ("admin-message-detail", True, False),
        ("admin-message-full-detail", True, True),
        ("admin-message-recipients", True, True),
    ],
)
def test_every_endpoint_renders_in_the_browsable_api(client, superuser, name, with_id, allowed):
    message = MessageRecipientFactory(recipient=superuser, message=MessageFactory(sender=superuser)).message
    client.force_login(superuser)
    url = reverse(f"messaging:{name}", args=[message.pk] if with_id else [])

    response = client.get(url, HTTP_ACCEPT="text/html")

    assert response.status_code == (200 if allowed else 405)
    assert response["Content-Type"].startswith("text/html")
    assert "&quot;code&quot;" in response.content.decode() or '"code"' in response.content.decode()
