"""Conversations through the API: starting, sending, reading, the list, unread, recall, files."""

import pytest
from django.urls import reverse

from accounts.tests.factories import FriendshipFactory, SchoolClassFactory, StudentFactory, UserFactory
from conversations.models import Conversation, ConversationMember, ConversationMessage

from .factories import UserBlockFactory, direct, group, pdf_upload, png_upload, send

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(f"conversations:{name}", kwargs=kwargs)


def test_colleagues_start_one_direct_conversation_whoever_starts(make_client, teacher, colleague):
    first = make_client(teacher).post(url("conversation-direct"), {"user_id": colleague.pk}, format="json")
    assert first.status_code == 201, first.json()
    body = first.json()["data"]
    assert body["kind"] == "direct" and body["name"] == colleague.full_name
    assert body["other_user"]["id"] == colleague.pk
    again = make_client(colleague).post(url("conversation-direct"), {"user_id": teacher.pk}, format="json")
    assert again.status_code == 200 and again.json()["data"]["id"] == body["id"]
    assert Conversation.objects.count() == 1


def test_a_stranger_may_not_start_but_a_friend_who_added_me_may(make_client, teacher):
    stranger = StudentFactory()
    refused = make_client(stranger).post(url("conversation-direct"), {"user_id": teacher.pk}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "conversation_not_allowed"
    FriendshipFactory(user=teacher, friend=stranger)  # the teacher added the student
    allowed = make_client(stranger).post(url("conversation-direct"), {"user_id": teacher.pk}, format="json")
    assert allowed.status_code == 201


def test_counsellor_and_class_students_both_ways(make_client):
    counsellor = UserFactory()
    school_class = SchoolClassFactory()
    school_class.counsellors.add(counsellor)
    student = StudentFactory(school_class=school_class)
    assert (
        make_client(student)
        .post(url("conversation-direct"), {"user_id": counsellor.pk}, format="json")
        .status_code
        == 201
    )
    other_student = StudentFactory(school_class=school_class)
    assert (
        make_client(counsellor)
        .post(url("conversation-direct"), {"user_id": other_student.pk}, format="json")
        .status_code
        == 201
    )
    # Classmates are not each other's audience.
    response = make_client(student).post(
        url("conversation-direct"), {"user_id": other_student.pk}, format="json"
    )
    assert response.status_code == 403


def test_staff_setting_restricts_starting(settings, make_client, teacher, colleague):
    settings.CONVERSATIONS_START_RULES = ["audiences"]
    response = make_client(teacher).post(url("conversation-direct"), {"user_id": colleague.pk}, format="json")
    assert response.status_code == 403


def test_blocked_user_can_neither_start_nor_write(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    UserBlockFactory(blocker=colleague, blocked=teacher)
    client = make_client(teacher)
    response = client.post(
        url("message-list", conversation_id=conversation.pk), {"message": "在吗"}, format="json"
    )
    assert response.status_code == 403 and response.json()["error_code"] == "blocked"
    assert not ConversationMessage.objects.exists()
    conversation.delete()
    response = client.post(url("conversation-direct"), {"user_id": colleague.pk}, format="json")
    assert response.status_code == 403 and response.json()["error_code"] == "blocked"


def test_block_endpoint(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    assert make_client(colleague).post(url("conversation-block", user_id=teacher.pk)).status_code == 200
    response = make_client(teacher).post(
        url("message-list", conversation_id=conversation.pk), {"message": "在吗"}, format="json"
    )
    assert response.status_code == 403
    assert make_client(colleague).delete(url("conversation-block", user_id=teacher.pk)).status_code == 200
    response = make_client(teacher).post(
        url("message-list", conversation_id=conversation.pk), {"message": "在吗"}, format="json"
    )
    assert response.status_code == 201


def test_send_counts_unread_and_read_clears_it(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    sender = make_client(teacher)
    for text in ("一", "二", "三"):
        assert (
            sender.post(
                url("message-list", conversation_id=conversation.pk), {"message": text}, format="json"
            ).status_code
            == 201
        )
    reader = make_client(colleague)
    assert reader.get(url("conversation-unread")).json()["data"] == {"unread_count": 3}
    listed = reader.get(url("conversation-list")).json()["data"]
    assert listed["conversations"][0]["unread_count"] == 3
    assert listed["conversations"][0]["last_message"]["message"] == "三"
    assert listed["pagination"]["total_items"] == 1
    response = reader.post(
        url("conversation-read", conversation_id=conversation.pk), {"seq": 2}, format="json"
    )
    assert response.json()["data"] == {"last_read_seq": 2, "unread_count": 1}
    # The pointer never moves back.
    response = reader.post(
        url("conversation-read", conversation_id=conversation.pk), {"seq": 1}, format="json"
    )
    assert response.json()["data"] == {"last_read_seq": 2, "unread_count": 1}
    reader.post(url("conversation-read", conversation_id=conversation.pk), {}, format="json")
    assert reader.get(url("conversation-unread")).json()["data"] == {"unread_count": 0}
    assert sender.get(url("conversation-unread")).json()["data"] == {"unread_count": 0}


def test_client_id_makes_a_resend_idempotent(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    client = make_client(teacher)
    body = {"message": "只发一次", "client_id": "abc-123"}
    first = client.post(url("message-list", conversation_id=conversation.pk), body, format="json")
    second = client.post(url("message-list", conversation_id=conversation.pk), body, format="json")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["data"]["id"] == second.json()["data"]["id"]
    assert ConversationMessage.objects.count() == 1
    assert ConversationMember.objects.get(user=colleague).unread_count == 1


def test_history_is_cursor_paged_newest_first(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    for i in range(7):
        send(conversation, teacher, f"消息{i}")
    client = make_client(colleague)
    page = client.get(url("message-list", conversation_id=conversation.pk), {"limit": 3}).json()["data"]
    assert [m["seq"] for m in page["messages"]] == [7, 6, 5] and page["has_more"]
    page = client.get(url("message-list", conversation_id=conversation.pk), {"limit": 3, "before": 5}).json()[
        "data"
    ]
    assert [m["seq"] for m in page["messages"]] == [4, 3, 2] and page["has_more"]
    page = client.get(url("message-list", conversation_id=conversation.pk), {"limit": 3, "before": 2}).json()[
        "data"
    ]
    assert [m["seq"] for m in page["messages"]] == [1] and not page["has_more"]
    page = client.get(url("message-list", conversation_id=conversation.pk), {"after": 5}).json()["data"]
    assert [m["seq"] for m in page["messages"]] == [7, 6] and not page["has_more"]
    bad = client.get(url("message-list", conversation_id=conversation.pk), {"before": "x"})
    assert bad.status_code == 400 and "before" in bad.json()["message"]
    bad = client.get(url("message-list", conversation_id=conversation.pk), {"limit": "0"})
    assert bad.status_code == 400


def test_bad_input_is_a_400_naming_the_field(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    client = make_client(teacher)
    path = url("message-list", conversation_id=conversation.pk)
    assert client.post(path, {"message": "  "}, format="json").json()["error_code"] == "empty_message"
    assert (
        client.post(path, {"message": "x" * 5001}, format="json").json()["error_code"] == "message_too_long"
    )
    response = client.post(path, {"message": "x", "message_type": "video"}, format="json")
    assert response.status_code == 400 and "message_type" in response.json()["message"]
    response = client.post(path, {"message": "x", "client_id": "有空格 的"}, format="json")
    assert response.status_code == 400 and "client_id" in response.json()["message"]
    response = client.post(url("conversation-direct"), {"user_id": 10**30}, format="json")
    assert response.status_code == 400
    response = client.post(
        url("conversation-read", conversation_id=conversation.pk), {"seq": -1}, format="json"
    )
    assert response.status_code == 400


def test_picture_and_file_messages_checked_by_content_and_downloaded_by_members_only(
    make_client, teacher, colleague
):
    conversation = direct(teacher, colleague)
    client = make_client(teacher)
    path = url("message-list", conversation_id=conversation.pk)
    picture = client.post(path, {"message_type": "picture", "file": png_upload()}, format="multipart")
    assert picture.status_code == 201, picture.json()
    assert picture.json()["data"]["file"]["content_type"] == "image/png"
    document = client.post(path, {"message_type": "file", "file": pdf_upload()}, format="multipart")
    assert document.status_code == 201
    file_url = document.json()["data"]["file"]["url"]
    fake = client.post(
        path,
        {"message_type": "file", "file": pdf_upload().__class__("假.pdf", b"MZ not a pdf")},
        format="multipart",
    )
    assert fake.status_code == 400 and fake.json()["error_code"] == "file_content"
    exe = client.post(
        path, {"message_type": "file", "file": pdf_upload().__class__("a.exe", b"MZ")}, format="multipart"
    )
    assert exe.status_code == 400 and exe.json()["error_code"] == "file_type"
    not_image = client.post(path, {"message_type": "picture", "file": pdf_upload()}, format="multipart")
    assert not_image.status_code == 400
    downloaded = make_client(colleague).get(file_url)
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content).startswith(b"%PDF")
    assert "attachment" in downloaded["Content-Disposition"]
    assert make_client(UserFactory()).get(file_url).status_code == 404


def test_file_size_limit_from_settings(settings, make_client, teacher, colleague):
    settings.CONVERSATIONS_FILE_MAX_BYTES = 10
    conversation = direct(teacher, colleague)
    response = make_client(teacher).post(
        url("message-list", conversation_id=conversation.pk),
        {"message_type": "file", "file": pdf_upload()},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["error_code"] == "file_too_large"


def test_recall_within_the_window_only(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    message = send(conversation, teacher, "发错了")
    assert (
        make_client(colleague)
        .post(url("message-recall", conversation_id=conversation.pk, message_id=message.pk))
        .status_code
        == 403
    )
    response = make_client(teacher).post(
        url("message-recall", conversation_id=conversation.pk, message_id=message.pk)
    )
    assert (
        response.status_code == 200
        and response.json()["data"]["recalled"]
        and response.json()["data"]["message"] == ""
    )
    old = send(conversation, teacher, "旧消息")
    ConversationMessage.objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))
    response = make_client(teacher).post(
        url("message-recall", conversation_id=conversation.pk, message_id=old.pk)
    )
    assert response.status_code == 400 and response.json()["error_code"] == "recall_expired"


def test_non_members_never_read_list_or_write(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    message = send(conversation, teacher, "私密")
    outsider = make_client(UserFactory())
    for response in (
        outsider.get(url("conversation-detail", conversation_id=conversation.pk)),
        outsider.get(url("message-list", conversation_id=conversation.pk)),
        outsider.post(url("message-list", conversation_id=conversation.pk), {"message": "hi"}, format="json"),
        outsider.post(url("conversation-read", conversation_id=conversation.pk), {}, format="json"),
        outsider.post(
            url("message-report", conversation_id=conversation.pk, message_id=message.pk),
            {"reason": "x"},
            format="json",
        ),
    ):
        assert response.status_code == 404
    assert outsider.get(url("conversation-list")).json()["data"]["conversations"] == []


def test_group_lifecycle(make_client, teacher, colleague, department):
    third = UserFactory(department=department)
    owner = make_client(teacher)
    created = owner.post(
        url("conversation-group-create"), {"name": "教研室", "member_ids": [colleague.pk]}, format="json"
    )
    assert created.status_code == 201, created.json()
    conversation_id = created.json()["data"]["id"]
    assert created.json()["data"]["member_count"] == 2
    added = owner.post(
        url("member-list", conversation_id=conversation_id), {"member_ids": [third.pk]}, format="json"
    )
    assert added.status_code == 200 and added.json()["data"]["member_count"] == 3
    # An ordinary member cannot add or remove.
    assert (
        make_client(colleague)
        .delete(url("member-detail", conversation_id=conversation_id, user_id=third.pk))
        .status_code
        == 403
    )
    # The owner makes colleague an admin, who removes third.
    assert (
        owner.patch(
            url("member-detail", conversation_id=conversation_id, user_id=colleague.pk),
            {"role": "admin"},
            format="json",
        ).status_code
        == 200
    )
    assert (
        make_client(colleague)
        .delete(url("member-detail", conversation_id=conversation_id, user_id=third.pk))
        .status_code
        == 200
    )
    assert (
        make_client(third).get(url("conversation-detail", conversation_id=conversation_id)).status_code == 404
    )
    # A member leaves; the owner cannot leave while others remain.
    assert (
        owner.delete(url("member-detail", conversation_id=conversation_id, user_id=teacher.pk)).status_code
        == 400
    )
    assert (
        make_client(colleague)
        .delete(url("member-detail", conversation_id=conversation_id, user_id=colleague.pk))
        .status_code
        == 200
    )
    assert Conversation.objects.get(pk=conversation_id).member_count == 1


def test_group_refuses_strangers_and_more_than_the_limit(settings, make_client, teacher, colleague):
    stranger = StudentFactory()
    response = make_client(teacher).post(
        url("conversation-group-create"), {"name": "x", "member_ids": [stranger.pk]}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "conversation_not_allowed"
    assert response.json()["data"]["refused"] == [stranger.pk]
    settings.CONVERSATIONS_GROUP_MAX_MEMBERS = 1
    response = make_client(teacher).post(
        url("conversation-group-create"), {"name": "x", "member_ids": [colleague.pk]}, format="json"
    )
    assert response.status_code == 400 and response.json()["error_code"] == "group_full"


def test_class_group_by_its_counsellor(make_client):
    counsellor = UserFactory()
    school_class = SchoolClassFactory()
    school_class.counsellors.add(counsellor)
    students = StudentFactory.create_batch(3, school_class=school_class)
    response = make_client(counsellor).post(
        url("conversation-group-create"), {"class_id": school_class.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["data"]["name"] == school_class.name
    assert {m["user"]["id"] for m in response.json()["data"]["members"]} == {
        counsellor.pk,
        *(s.pk for s in students),
    }
    other = UserFactory()
    response = make_client(other).post(
        url("conversation-group-create"), {"class_id": school_class.pk}, format="json"
    )
    assert response.status_code == 403


def test_send_to_many_answers_per_recipient(make_client, teacher, colleague):
    stranger = StudentFactory()
    blocker = UserFactory(department=teacher.department)
    UserBlockFactory(blocker=blocker, blocked=teacher)
    response = make_client(teacher).post(
        url("conversation-send-many"),
        {"recipient_ids": [colleague.pk, stranger.pk, blocker.pk, teacher.pk, 999999], "message": "通知"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    results = {r["recipient_id"]: r for r in response.json()["data"]}
    assert results[colleague.pk]["status"] == "delivered" and results[colleague.pk]["message_id"]
    assert results[stranger.pk]["reason"] == "conversation_not_allowed"
    assert results[blocker.pk]["reason"] == "blocked"
    assert results[teacher.pk]["reason"] == "conversation_self"
    assert results[999999]["reason"] == "user_inactive"
    assert ConversationMessage.objects.count() == 1


def test_send_to_many_with_a_file_stores_it_once(make_client, teacher, colleague, department):
    third = UserFactory(department=department)
    response = make_client(teacher).post(
        url("conversation-send-many"),
        {"recipient_ids": f"{colleague.pk},{third.pk}", "message_type": "file", "file": pdf_upload()},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert [r["status"] for r in response.json()["data"]] == ["delivered", "delivered"]
    assert len(set(ConversationMessage.objects.values_list("file", flat=True))) == 1


def test_banned_user_cannot_send(make_client, teacher, colleague):
    from .factories import MessagingBanFactory

    conversation = direct(teacher, colleague)
    MessagingBanFactory(user=teacher)
    response = make_client(teacher).post(
        url("message-list", conversation_id=conversation.pk), {"message": "x"}, format="json"
    )
    assert response.status_code == 403 and response.json()["error_code"] == "messaging_banned"


def test_report_a_message_once(make_client, teacher, colleague):
    conversation = direct(teacher, colleague)
    message = send(conversation, teacher, "骚扰")
    client = make_client(colleague)
    path = url("message-report", conversation_id=conversation.pk, message_id=message.pk)
    assert client.post(path, {"reason": "骚扰信息"}, format="json").status_code == 201
    assert client.post(path, {"reason": "骚扰信息"}, format="json").json()["error_code"] == "already_reported"


def test_group_conversation_list_and_member_count(make_client, teacher, colleague):
    conversation = group(teacher, [colleague])
    send(conversation, teacher, "大家好")
    data = make_client(colleague).get(url("conversation-list")).json()["data"]["conversations"][0]
    assert data["kind"] == "group" and data["other_user"] is None and data["unread_count"] == 1
