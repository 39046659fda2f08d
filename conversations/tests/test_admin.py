"""Staff's side: a report shows the reported message and its neighbours only; banning the sender
stops them from writing; private conversations are not in the admin."""

import pytest
from django.contrib import admin
from django.urls import reverse

from conversations import services
from conversations.models import Conversation, ConversationMessage, MessageReport, MessagingBan

from .factories import direct, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(teacher, colleague):
    conversation = direct(teacher, colleague)
    for i in range(1, 21):
        send(conversation, teacher if i % 2 else colleague, f"第{i}条")
    message = ConversationMessage.objects.get(conversation=conversation, seq=10)
    return services.message_report(message=message, reporter=colleague, reason="骚扰")


def test_report_page_shows_only_the_message_and_its_neighbours(client, superuser, reported):
    client.force_login(superuser)
    assert client.get(reverse("admin:conversations_messagereport_changelist")).status_code == 200
    page = client.get(
        reverse("admin:conversations_messagereport_change", args=[reported.pk])
    ).content.decode()
    for seq in range(7, 14):
        assert f"第{seq}条" in page
    for seq in (1, 6, 14, 20):
        assert f"第{seq}条<" not in page and f"：第{seq}条" not in page


def test_ban_action_stops_the_sender(client, superuser, reported, teacher):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:conversations_messagereport_changelist"),
        {"action": "ban_sender", "_selected_action": [reported.pk]},
    )
    assert response.status_code == 302
    assert MessagingBan.objects.filter(user=reported.message.sender).exists()
    assert MessageReport.objects.get().status == "actioned"


def test_private_conversations_are_not_in_the_admin():
    assert Conversation not in admin.site._registry
    assert ConversationMessage not in admin.site._registry


def test_ban_page_adds_through_the_service(client, superuser, teacher):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:conversations_messagingban_add"), {"user": teacher.pk, "reason": "刷屏"}
    )
    assert response.status_code == 302
    assert MessagingBan.objects.get(user=teacher).created_by == superuser
