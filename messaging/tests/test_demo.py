import io

import pytest
from django.utils import timezone

from accounts import demo as accounts_demo
from messaging import demo, selectors
from messaging.models import Message, MessagePriority, MessageRecipient, MessageType

pytestmark = pytest.mark.django_db


def test_demo_seeds_every_kind_of_message_once():
    accounts_demo.seed(io.StringIO())

    lines = demo.seed(io.StringIO())

    assert lines and "演示消息" in lines[0]
    now = timezone.now()
    messages = Message.objects.all()
    assert messages.count() > 300
    assert set(messages.values_list("type", flat=True)) == set(MessageType.values)
    assert set(messages.values_list("priority", flat=True)) == set(MessagePriority.values)
    assert messages.filter(is_global=True).exists() and messages.filter(is_global=False).exists()
    assert messages.filter(published_at__gt=now).exists()  # scheduled
    assert messages.filter(expires_at__lte=now).exists()  # expired
    assert messages.filter(is_active=False).exists()  # withdrawn
    assert MessageRecipient.objects.filter(read_at__isnull=False).exists()
    assert MessageRecipient.objects.filter(read_at__isnull=True).exists()
    assert MessageRecipient.objects.filter(archived_at__isnull=False).exists()
    # Global messages have rows only for users who acted on them.
    assert not MessageRecipient.objects.filter(message__is_global=True, read_at__isnull=True).exists()
    # Every row's message is consistent with the readers' inbox.
    teacher = accounts_demo.User.objects.get(username=accounts_demo.DEMO_TEACHER)
    stats = selectors.message_stats_for_user(user=teacher)
    assert stats["total_count"] == stats["read_count"] + stats["unread_count"] > 0

    assert demo.seed(io.StringIO()) == []
    assert Message.objects.count() == messages.count()
