"""会话 on a phone: a student writes to their counsellor from the counsellor's card (text and a
picture), the counsellor answers on their own phone, and the student's page shows the answer by
itself (htmx polling), with axe run on every page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SchoolClassFactory, StudentFactory, UserFactory
from conversations.models import ConversationMessage

from .test_portal import PHONE, check, phone, png_bytes, sign_in  # noqa: F401 - phone is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.checked = []
    yield page
    context.close()


def test_a_student_chats_with_their_counsellor(phone, second_phone, password):  # noqa: F811 - the fixture
    counsellor = UserFactory(last_name="张", first_name="老师")
    school_class = SchoolClassFactory(name="计科2401")
    school_class.counsellors.add(counsellor)
    student = StudentFactory(last_name="李", first_name="同学", school_class=school_class)

    page = phone
    sign_in(page, student, password)
    page.goto(f"/m/contacts/{counsellor.pk}/")
    page.get_by_role("button", name="发消息").click()
    page.wait_for_url(re.compile(r"/m/conversations/\d+/$"))
    check(page, "conversation-empty")
    page.get_by_label("消息").fill("张老师好，请问明天班会几点？")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".chat .bubble").last).to_contain_text("明天班会几点")
    page.get_by_label("图片或文件").set_input_files(
        files=[{"name": "请假条.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_role("img", name=re.compile("请假条"))).to_be_visible()
    check(page, "conversation")
    assert ConversationMessage.objects.filter(sender=student).count() == 2

    # The counsellor sees the unread conversation and answers.
    other = second_phone
    sign_in(other, counsellor, password)
    other.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("会话")).click()
    other.wait_for_url(re.compile(r"/m/conversations/$"))
    row = other.get_by_role("link", name=re.compile("李同学"))
    expect(row).to_contain_text("2")
    check(other, "conversations")
    row.click()
    other.get_by_label("消息").fill("下午两点，在勤学楼。")
    other.get_by_role("button", name="发送").click()
    expect(other.locator(".chat .bubble").last).to_contain_text("下午两点")

    # The student's open page shows the answer without a reload.
    expect(page.locator(".chat .bubble").last).to_contain_text("下午两点", timeout=15_000)
    page.goto("/m/conversations/")
    check(page, "conversations-read")
