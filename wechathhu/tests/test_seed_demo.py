import io

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, DEMO_STUDENT, DEMO_TEACHER

pytestmark = pytest.mark.django_db


def _row_counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_seed_demo_is_idempotent_and_its_logins_work(anon_client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _row_counts()
    assert first["accounts.User"] >= 131
    # Conversations: the demo student's with their counsellor (a file in it), the class group, the
    # demo teacher's with a colleague; unread messages waiting.
    assert first["conversations.Conversation"] >= 3
    from conversations.models import ConversationMember, ConversationMessage

    assert ConversationMessage.objects.filter(message_type="file").exists()
    assert ConversationMember.objects.filter(user__username=DEMO_TEACHER, unread_count__gt=0).exists()
    assert ConversationMember.objects.filter(conversation__school_class__isnull=False).count() > 2
    call_command("seed_demo", stdout=io.StringIO())
    assert _row_counts() == first
    assert DEMO_TEACHER in out.getvalue() and DEMO_PASSWORD in out.getvalue()
    for username in ("admin", DEMO_TEACHER, DEMO_STUDENT):
        response = anon_client.post("/auth/get-token/", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 201, username
