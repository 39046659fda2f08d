"""Comments, private questions and polls on the phone pages (issue 20 items 3 and 5): the message
page shows the poll and the comments and takes votes, comments and questions; the sender's page
lists the questions and takes answers; compose opens comments and adds a poll."""

import pytest

from accounts.tests.factories import StudentFactory, UserFactory
from messaging import polls
from messaging.models import Message, MessageComment, PollVote
from messaging.tests.conftest import grant
from messaging.tests.factories import MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(student, teacher):
    message = MessageFactory(sender=teacher, title="班会安排")
    MessageRecipientFactory(message=message, recipient=student)
    polls.poll_create(message=message, question="选哪天？", options=["周四", "周五"])
    return message


def test_a_student_votes_comments_and_asks_on_the_message_page(page, student, setup):
    message = setup
    html = page.get(f"/m/messages/{message.pk}/").content.decode()
    assert "投票：选哪天？" in html and "还没有评论" in html and "私密提问" in html
    friday = message.poll.options.get(text="周五")
    response = page.post(f"/m/messages/{message.pk}/vote/", {"option": [friday.pk]})
    assert response.status_code == 302 and response["Location"].endswith("#poll")
    assert list(PollVote.objects.get(voter=student).options.all()) == [friday]
    html = page.get(f"/m/messages/{message.pk}/").content.decode()
    assert "我的选择" in html and "100.0%" in html and "修改投票" in html
    assert page.post(f"/m/messages/{message.pk}/comments/", {"body": "收到"}).status_code == 302
    assert (
        page.post(
            f"/m/messages/{message.pk}/comments/", {"body": "我能请假吗？", "private": "on"}
        ).status_code
        == 302
    )
    html = page.get(f"/m/messages/{message.pk}/").content.decode()
    assert "收到" in html and "我能请假吗？" in html
    other = StudentFactory()
    MessageRecipientFactory(message=message, recipient=other)
    from django.test import Client

    other_client = Client()
    other_client.force_login(other)
    html = other_client.get(f"/m/messages/{message.pk}/").content.decode()
    assert "收到" in html and "我能请假吗？" not in html


def test_bad_votes_and_comments_are_400s_on_the_page(page, setup):
    message = setup
    response = page.post(f"/m/messages/{message.pk}/vote/", {})
    assert response.status_code == 400 and "请至少选择一项" in response.content.decode()
    response = page.post(f"/m/messages/{message.pk}/vote/", {"option": ["999999"]})
    assert response.status_code == 400
    response = page.post(f"/m/messages/{message.pk}/comments/", {"body": "长" * 1001})
    assert response.status_code == 400 and "1000" in response.content.decode()
    Message.objects.filter(pk=message.pk).update(comments_open=False)
    response = page.post(f"/m/messages/{message.pk}/comments/", {"body": "好"})
    assert response.status_code == 400 and "没有开放评论" in response.content.decode()


def test_strangers_get_404_on_every_discussion_page(browser_for, setup):
    stranger = browser_for(UserFactory())
    assert stranger.post(f"/m/messages/{setup.pk}/comments/", {"body": "hi"}).status_code == 404
    assert stranger.post(f"/m/messages/{setup.pk}/vote/", {"option": ["1"]}).status_code == 404
    question = MessageComment.objects.create(message=setup, author=UserFactory(), body="?")
    assert (
        stranger.post(f"/m/sent/{setup.pk}/questions/{question.pk}/answer/", {"body": "x"}).status_code == 404
    )


def test_the_teacher_answers_a_private_question_on_the_sent_page(page, browser_for, teacher, student, setup):
    message = setup
    page.post(f"/m/messages/{message.pk}/comments/", {"body": "我能请假吗？", "private": "on"})
    question = MessageComment.objects.get(body="我能请假吗？")
    teacher_client = browser_for(grant(teacher, "send"))  # a sender: their list of sent messages too
    html = teacher_client.get(f"/m/sent/{message.pk}/").content.decode()
    assert "我能请假吗？" in html and "1 条待回答" in html
    assert "1 条提问待回答" in teacher_client.get("/m/sent/").content.decode()
    response = teacher_client.post(f"/m/sent/{message.pk}/questions/{question.pk}/answer/", {"body": "可以"})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answered_at is not None
    assert "待回答" not in teacher_client.get("/m/sent/").content.decode()
    assert "可以" in page.get(f"/m/messages/{message.pk}/").content.decode()
    # The student may not answer (403), even on a message they see.
    assert (
        page.post(f"/m/sent/{message.pk}/questions/{question.pk}/answer/", {"body": "x"}).status_code == 403
    )


def test_compose_opens_comments_and_adds_a_poll(browser_for):
    from accounts.tests.factories import SchoolClassFactory

    teacher = UserFactory()
    school_class = SchoolClassFactory(name="计科2402")
    school_class.counsellors.add(teacher)
    StudentFactory(school_class=school_class)
    client = browser_for(teacher)
    form = client.get("/m/compose/").content.decode()
    assert "开放评论和私密提问" in form and "投票问题" in form
    data = {
        "title": "春游",
        "content": "去哪里？",
        "class_ids": [school_class.pk],
        "type": "notification",
        "priority": "normal",
        "comments_open": "on",
        "poll_question": "去哪里？",
        "poll_options": "紫金山\n玄武湖",
        "poll_allow_change": "on",
    }
    bad = client.post("/m/compose/", {**data, "poll_options": "紫金山"})
    assert bad.status_code == 400 and "2–20" in bad.content.decode()
    assert client.post("/m/compose/", data).status_code == 302
    message = Message.objects.get(title="春游")
    assert message.comments_open and [o.text for o in message.poll.options.all()] == ["紫金山", "玄武湖"]
