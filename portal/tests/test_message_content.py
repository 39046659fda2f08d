"""The H5 pages of issue 20 items 4, 6, 8: real search in the inbox, the 热门 tab, attachments on a
message (download links), compose with files and from a template (placeholders filled per
recipient)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import SchoolClassFactory, StudentFactory, UserFactory
from messaging import attachments, templates_service
from messaging.models import Message, MessageAttachment
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n" + b"x" * 50


def pdf(name="议程.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_inbox_search_is_the_full_text_search(page, student):
    MessageRecipientFactory(
        recipient=student, message=MessageFactory(title="教职工大会", content="请参加会议")
    )
    MessageRecipientFactory(recipient=student, message=MessageFactory(title="食堂菜单", content="本周"))
    body = page.get("/m/messages/", {"search": "会议"}).content.decode()
    assert "教职工大会" in body and "食堂菜单" not in body


def test_hot_tab_lists_the_window_ranked_by_reads(page, student):
    quiet = MessageFactory(title="冷门消息")
    busy = GlobalMessageFactory(title="热门消息")
    MessageRecipientFactory(recipient=student, message=quiet)
    for _ in range(3):
        MessageRecipientFactory(message=busy, read_at=busy.published_at)
    body = page.get("/m/messages/hot/").content.decode()
    assert body.index("热门消息") < body.index("冷门消息")
    assert "热度 3" in body and 'aria-current="page">热门' in body


def test_message_page_lists_attachments_with_download_links(page, student):
    message = MessageFactory(title="会议通知")
    MessageRecipientFactory(recipient=student, message=message)
    attachment = attachments.attachments_add(message=message, uploads=[pdf()], user=message.sender)[0]
    body = page.get(f"/m/messages/{message.pk}/").content.decode()
    link = f"/api/v1/messages/{message.pk}/attachments/{attachment.pk}"
    assert link in body and "议程.pdf" in body
    response = page.get(link)  # the browser session is enough
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


@pytest.fixture
def counsellor(db):
    teacher = UserFactory()
    school_class = SchoolClassFactory(name="计科2402")
    school_class.counsellors.add(teacher)
    return teacher, school_class


def test_compose_with_files_and_placeholders(browser_for, counsellor):
    teacher, school_class = counsellor
    first = StudentFactory(school_class=school_class, last_name="王", first_name="五")
    response = browser_for(teacher).post(
        "/m/compose/",
        {
            "title": "{姓名}：班会",
            "content": "{班级}班会",
            "class_ids": [school_class.pk],
            "type": "notification",
            "priority": "normal",
            "files": [pdf("a.pdf"), pdf("b.pdf")],
        },
    )
    assert response.status_code == 302
    message = Message.objects.get(title="{姓名}：班会")
    assert MessageAttachment.objects.filter(message=message).count() == 2
    page = browser_for(first).get(f"/m/messages/{message.pk}/").content.decode()
    assert "王五：班会" in page and "计科2402班会" in page and "a.pdf" in page


def test_a_refused_file_sends_nothing(browser_for, counsellor):
    teacher, school_class = counsellor
    StudentFactory(school_class=school_class)
    response = browser_for(teacher).post(
        "/m/compose/",
        {
            "title": "通知",
            "content": "x",
            "class_ids": [school_class.pk],
            "type": "notification",
            "priority": "normal",
            "files": [SimpleUploadedFile("假.pdf", b"not a pdf")],
        },
    )
    assert response.status_code == 400 and "假.pdf" in response.content.decode()
    assert not Message.objects.exists()


def test_compose_starts_from_a_template(browser_for, counsellor):
    teacher, _ = counsellor
    template = templates_service.template_create(
        owner=teacher, name="周会模板", title="周会提醒", content="{姓名}，周会照常。", priority="high"
    )
    client = browser_for(teacher)
    assert "周会模板" in client.get("/m/compose/").content.decode()
    form = client.get("/m/compose/", {"template": template.pk}).content.decode()
    assert 'value="周会提醒"' in form and "{姓名}，周会照常。" in form
    assert client.get("/m/compose/", {"template": "99999999999999999999"}).status_code == 200
