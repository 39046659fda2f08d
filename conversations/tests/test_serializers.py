"""The conversation answers are written out directly (speed); they must be exactly what DRF's
declared fields write, field by field, for every kind of row."""

import pytest
from django.test import RequestFactory
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from conversations import realtime, selectors, services
from conversations.api.serializers import (
    ChatMessageSerializer,
    ChatUserPresenceSerializer,
    ChatUserSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
)
from conversations.models import ConversationMessage

from .factories import direct, group, pdf_upload, png_upload, send

pytestmark = pytest.mark.django_db


def by_fields(serializer, instance):
    """What DRF's declared fields write (the base class's ``to_representation``)."""
    return dict(serializers.Serializer.to_representation(serializer, instance))


@pytest.fixture
def world(teacher, colleague):
    from accounts.services.avatars import user_set_avatar

    user_set_avatar(user=colleague, upload=png_upload(size=(64, 64)))
    nameless = UserFactory(first_name="", last_name="", department=teacher.department)
    chat = direct(teacher, colleague)
    send(chat, teacher, "你好", client_id="mine-1")
    picture = services.message_prepare(message_type="picture", upload=png_upload())
    services.message_send(conversation=chat, sender=colleague, outgoing=picture, client_id="theirs-1")
    team = group(teacher, [colleague, nameless], name="教研组")
    document = services.message_prepare(message_type="file", upload=pdf_upload())
    services.message_send(conversation=team, sender=nameless, outgoing=document)
    recalled = send(team, teacher, "撤回我")
    services.message_recall(message=recalled, user=teacher)
    gone = send(direct(teacher, nameless), nameless, "再见")
    nameless.delete()  # the sender of a message may be gone (SET_NULL)
    assert ConversationMessage.objects.get(pk=gone.pk).sender_id is None
    request = RequestFactory().get("/api/v1/conversations")
    request.user = teacher
    return request


def test_direct_writing_matches_the_declared_fields(world):
    request = world
    memberships = list(selectors.membership_list(user=request.user))
    assert len(memberships) == 3
    partners = selectors.direct_partners(user=request.user, memberships=memberships)
    book = realtime.PresenceBook(request.user, partners.values())
    context = {"request": request, "partners": partners, "presence": book}
    for member in memberships:
        serializer = ConversationSerializer(member, context=context)
        assert serializer.data == by_fields(serializer, member)
        page = selectors.message_page(conversation=member.conversation, params={})
        for message in page["messages"]:
            one = ChatMessageSerializer(message, context=context)
            assert one.data == by_fields(one, message)
        members = list(selectors.member_list(conversation=member.conversation))
        detail = ConversationDetailSerializer(member, context={**context, "members": members})
        assert detail.data == by_fields(detail, member)
    for user in partners.values():
        for cls in (ChatUserSerializer, ChatUserPresenceSerializer):
            person = cls(user, context=context)
            assert person.data == by_fields(person, user)
    # Every kind was there: a picture, a file, a recalled message, a gone sender, my client_id.
    written = [ChatMessageSerializer(m, context=context).data for m in ConversationMessage.objects.all()]
    assert {m["message_type"] for m in written} == {"text", "picture", "file"}
    assert any(m["recalled"] for m in written) and any(m["sender"] is None for m in written)
    assert any(m["file"] and m["file"]["url"].startswith("http://testserver/") for m in written)
    assert [m["client_id"] for m in written if m["client_id"]] == ["mine-1"]
