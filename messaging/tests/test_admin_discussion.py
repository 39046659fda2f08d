"""Comments, private questions and polls in the admin: compose with comments and a poll, the poll
inline with its results, the Excel export (formula cells neutralised), comment moderation."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.tests.factories import UserFactory
from messaging import comments, polls
from messaging.models import Message, MessageComment
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from messaging.tests.test_admin import ADD, compose

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_compose_with_comments_closed_and_a_poll(admin_client):
    student = UserFactory()
    response = admin_client.post(
        ADD,
        compose(
            title="班会时间",
            recipients=[student.pk],
            comments_open="",
            poll_question="选哪天？",
            poll_options="周四\n周五\n\n周六\n",
            poll_multiple="on",
            poll_max_choices="2",
            poll_allow_change="on",
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    message = Message.objects.get(title="班会时间")
    assert message.comments_open is False
    assert message.poll.question == "选哪天？" and message.poll.max_choices == 2
    assert [o.text for o in message.poll.options.all()] == ["周四", "周五", "周六"]
    page = admin_client.get(reverse("admin:messaging_message_change", args=[message.pk])).content.decode()
    assert "选哪天？" in page and "共 0 人投票" in page and "导出投票结果和明细" in page


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"poll_question": "选哪天？", "poll_options": "只有一个"}, "2–20"),
        ({"poll_question": "", "poll_options": "甲\n乙"}, "请填写投票问题"),
        ({"poll_question": "选？", "poll_options": "甲\n甲"}, "不能重复"),
    ],
)
def test_a_bad_poll_is_reported_on_the_form_and_nothing_is_sent(admin_client, fields, text):
    response = admin_client.post(ADD, compose(title="坏投票", recipients=[UserFactory().pk], **fields))
    assert response.status_code == 200
    assert text in str(response.context["adminform"].form.errors)
    assert not Message.objects.filter(title="坏投票").exists()


def test_the_export_lists_who_voted_what_with_formulas_neutralised(admin_client):
    voter = UserFactory(last_name="=HYPERLINK(", first_name='"http://evil")')
    message = MessageFactory()
    MessageRecipientFactory(message=message, recipient=voter)
    poll = polls.poll_create(message=message, question="=1+1", options=["+甲", "@乙"])
    polls.poll_vote(message=message, user=voter, option_ids=[poll.options.get(position=1).pk])
    response = admin_client.get(reverse("admin:messaging_poll_export", args=[poll.pk]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    results = [[c.value for c in row] for row in book["结果"].iter_rows()]
    assert results[0][:2] == ["问题", "'=1+1"]
    assert ["'+甲", 1, 1.0] in results and ["'@乙", 0, 0.0] in results
    detail = [[c.value for c in row] for row in book["明细"].iter_rows()]
    assert detail[1][0] == voter.username and detail[1][1].startswith("'=") and detail[1][4] == "'+甲"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"


def test_an_anonymous_polls_export_has_no_names(admin_client):
    message = MessageFactory()
    poll = polls.poll_create(message=message, question="匿名？", options=["是", "否"], anonymous=True)
    book = load_workbook(
        io.BytesIO(admin_client.get(reverse("admin:messaging_poll_export", args=[poll.pk])).content)
    )
    assert book.sheetnames == ["结果"]


def test_a_sender_exports_only_their_own_polls(client):
    from messaging.tests.conftest import grant

    sender = grant(UserFactory(kind="teacher", is_staff=True), "send")
    mine = polls.poll_create(message=MessageFactory(sender=sender), question="我的", options=["甲", "乙"])
    theirs = polls.poll_create(message=MessageFactory(), question="别人的", options=["甲", "乙"])
    client.force_login(sender)
    assert client.get(reverse("admin:messaging_poll_export", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:messaging_poll_export", args=[theirs.pk])).status_code == 404


def _comment(message, user, body, private=False):
    message.is_moderator = False
    return comments.comment_create(message=message, user=user, body=body, private=private)


def test_comments_are_filtered_hidden_and_shown_again_through_the_service(admin_client):
    reader = UserFactory()
    message, other = MessageFactory(title="班会"), MessageFactory(title="别的")
    for m in (message, other):
        MessageRecipientFactory(message=m, recipient=reader)
    spam = _comment(message, reader, "广告")
    _comment(message, reader, "私下问", private=True)
    _comment(other, reader, "别处")
    changelist = reverse("admin:messaging_messagecomment_changelist")
    html = admin_client.get(changelist, {"message__id__exact": message.pk}).content.decode()
    assert "广告" in html and "私下问" in html and "别处" not in html
    html = admin_client.get(changelist, {"is_private__exact": "1"}).content.decode()
    assert "私下问" in html and "广告" not in html
    response = admin_client.post(changelist, {"action": "hide", "_selected_action": [spam.pk]})
    assert response.status_code == 302
    spam.refresh_from_db()
    assert spam.hidden_at is not None and Message.objects.get(pk=message.pk).comment_count == 0
    html = admin_client.get(changelist, {"hidden": "yes"}).content.decode()
    assert "广告" in html and "私下问" not in html
    admin_client.post(changelist, {"action": "unhide", "_selected_action": [spam.pk]})
    assert MessageComment.objects.get(pk=spam.pk).hidden_at is None
    assert Message.objects.get(pk=message.pk).comment_count == 1


def test_a_sender_moderates_only_the_comments_of_their_own_messages(client):
    from messaging.tests.conftest import grant

    sender = grant(UserFactory(kind="teacher", is_staff=True), "send")
    reader = UserFactory()
    mine, theirs = MessageFactory(sender=sender), MessageFactory()
    for m in (mine, theirs):
        MessageRecipientFactory(message=m, recipient=reader)
    _comment(mine, reader, "我的消息的评论")
    _comment(theirs, reader, "别人消息的评论")
    client.force_login(sender)
    html = client.get(reverse("admin:messaging_messagecomment_changelist")).content.decode()
    assert "我的消息的评论" in html and "别人消息的评论" not in html
