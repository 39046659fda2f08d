"""Messages in a real browser: compose a message to a class, then watch its read rate as students read it."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SchoolClassFactory, StudentFactory
from conftest import client_for
from messaging.models import Message, MessageRecipient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compose_a_message_to_a_class_and_see_its_read_rate(page, admin_login, superuser):
    school_class = SchoolClassFactory(name="计科202401班")
    SchoolClassFactory(name="软工202402班")
    students = StudentFactory.create_batch(4, school_class=school_class)
    outsider = StudentFactory()

    admin_login(superuser)
    page.goto("/admin/messaging/message/")
    page.locator(".object-tools").get_by_role("link", name=re.compile("增加")).click()
    page.fill("#id_title", "期末考试安排")
    page.fill("#id_content", "请于周五前确认考场。")
    # The class is picked in the autocomplete box (select2 over the admin's autocomplete view).
    page.locator("#id_audience_classes + .select2").click()
    page.locator(".select2-search__field:focus").fill("计科")
    page.locator(".select2-results__option", has_text="计科202401班").click()
    expect(page.locator("#id_audience_classes + .select2 .select2-selection__choice")).to_have_text(
        re.compile("计科202401班")
    )
    page.get_by_role("button", name="保存", exact=True).click()

    expect(page.locator(".messagelist .success")).to_contain_text("期末考试安排")
    message = Message.objects.get(title="期末考试安排")
    assert sorted(
        MessageRecipient.objects.filter(message=message).values_list("recipient_id", flat=True)
    ) == sorted(s.pk for s in students)
    row = page.locator("#result_list tbody tr", has_text="期末考试安排")
    expect(row.locator("td.field-audience_size")).to_have_text("4")
    expect(row.locator("td.field-read_rate")).to_have_text("0.0%")
    page.snapshot("sent")

    # Two students read it in the mini-program; someone outside the class cannot move the figure.
    for reader in (*students[:2], outsider):
        response = client_for(reader).post(
            "/api/v1/messages/read", {"message_ids": [message.pk]}, format="json"
        )
        assert response.status_code == 200

    page.reload()
    expect(row.locator("td.field-read_count")).to_have_text("2")
    expect(row.locator("td.field-read_rate")).to_have_text("50.0%")
    row.get_by_role("link", name="期末考试安排").click()
    expect(page.locator(".field-read_summary .readonly")).to_have_text(
        "已读 2 / 4（50.0%，分母为接收者人数）"
    )
    assert page.js_errors == []
