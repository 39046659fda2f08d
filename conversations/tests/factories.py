"""Factories for conversations. Conversations and messages are made through the services (the
counters, sequence numbers and pair keys are theirs to keep); the rest are plain rows."""

import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory
from PIL import Image

from accounts.tests.factories import UserFactory
from conversations import services
from conversations.models import ConversationMember, MessagingBan, UserBlock


def direct(user, other):
    """The direct conversation of two users, rules bypassed (``staff`` on the starter's side
    is not assumed: the test world decides who may start; this just makes one)."""
    from django.utils import timezone

    from conversations.models import Conversation, ConversationKind

    key = Conversation.pair_key_for(user.pk, other.pk)
    conversation = Conversation.objects.filter(pair_key=key).first()
    if conversation is None:
        conversation = Conversation.objects.create(
            kind=ConversationKind.DIRECT, pair_key=key, created_by=user, member_count=2
        )
        now = timezone.now()
        ConversationMember.objects.bulk_create(
            [
                ConversationMember(conversation=conversation, user=u, last_activity_at=now)
                for u in (user, other)
            ]
        )
    return conversation


def group(owner, members, name="测试群"):
    """A group of ``owner`` and ``members``, rules bypassed."""
    from django.utils import timezone

    from conversations.models import Conversation, ConversationKind, MemberRole

    now = timezone.now()
    conversation = Conversation.objects.create(
        kind=ConversationKind.GROUP, name=name, created_by=owner, member_count=len(members) + 1
    )
    ConversationMember.objects.bulk_create(
        [
            ConversationMember(
                conversation=conversation, user=owner, role=MemberRole.OWNER, last_activity_at=now
            )
        ]
        + [ConversationMember(conversation=conversation, user=u, last_activity_at=now) for u in members]
    )
    return conversation


def send(conversation, sender, text="你好", **kwargs):
    outgoing = services.message_prepare(message_type="text", text=text)
    message, _ = services.message_send(conversation=conversation, sender=sender, outgoing=outgoing, **kwargs)
    return message


def png_upload(name="图.png", size=(16, 16)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf_upload(name="课表.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )


class UserBlockFactory(DjangoModelFactory):
    class Meta:
        model = UserBlock

    blocker = factory.SubFactory(UserFactory)
    blocked = factory.SubFactory(UserFactory)


class MessagingBanFactory(DjangoModelFactory):
    class Meta:
        model = MessagingBan

    user = factory.SubFactory(UserFactory)
    reason = "测试"
