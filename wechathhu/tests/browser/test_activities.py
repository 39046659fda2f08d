"""Activities in a real browser: the projector page rotating its clock-in code, and the 报名记录
list's clock-in filter box with a good and a bad expression."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from activities import qr
from activities.tests.factories import (
    ActivityFactory,
    ClockinItemFactory,
    ClockinRecordFactory,
    EnrollmentFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_projector_page_rotates_its_qr_code(page, admin_login, superuser, settings):
    settings.ACTIVITIES_CLOCKIN_STEP_SECONDS = 2  # rotate within the test, not every 25 s
    activity = ActivityFactory(name="人工智能前沿讲座")
    item = ClockinItemFactory(activity=activity, label="签到")
    people = UserFactory.create_batch(3)
    for person in people:
        EnrollmentFactory(activity=activity, user=person)
    ClockinRecordFactory(item=item, user=people[0])

    admin_login(superuser)
    page.goto("/admin/activities/clockinitem/")
    keys = []  # what the projector fetched: the codes it was given to draw
    page.context.on(
        "response", lambda r: keys.append(r.json()["key"]) if r.url.endswith("/projector/code/") else None
    )
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="投影二维码").click()
    projector = opened.value
    projector.wait_for_selector("#qr:not(.stale) svg")
    projector.evaluate("window.shownSinceLoad = true")

    assert projector.locator("h1").inner_text() == "签到"
    assert projector.locator("h2").inner_text() == "人工智能前沿讲座"
    assert projector.locator("#count").inner_text() == "1"
    assert projector.locator("#enrolled").inner_text() == "3"
    assert projector.locator("#status").inner_text() == ""
    expect(projector.locator(".info").first).to_have_text(re.compile(r"^二维码 [0-2] 秒后刷新"))
    first_svg = projector.locator("#qr").inner_html()
    page.snapshot("first-code", of=projector)

    # Within a step or two the page draws a new code, without reloading.
    projector.wait_for_function("shown => document.querySelector('#qr').innerHTML !== shown", arg=first_svg)
    assert projector.locator("#qr svg").count() == 1
    assert projector.evaluate("window.shownSinceLoad") is True  # the same page, not a reload
    shown = set(keys)
    assert len(shown) >= 2, keys
    for key in shown:  # each one a code a phone could scan for this item
        verdict = qr.check_key(key)
        assert verdict.valid and verdict.item_id == item.pk
    page.snapshot("next-code", of=projector)


def test_clockin_filter_box_with_a_good_and_a_bad_expression(page, admin_login, superuser):
    activity = ActivityFactory(name="迎新晚会")
    sign_in = ClockinItemFactory(activity=activity, label="签到")
    sign_out = ClockinItemFactory(activity=activity, label="签退")
    stayed, left_early, absent = (UserFactory(last_name=n, first_name="同学") for n in "赵钱孙")
    for person in (stayed, left_early, absent):
        EnrollmentFactory(activity=activity, user=person)
    ClockinRecordFactory(item=sign_in, user=stayed)
    ClockinRecordFactory(item=sign_out, user=stayed)
    ClockinRecordFactory(item=sign_in, user=left_early)

    admin_login(superuser)
    page.goto("/admin/activities/enrollment/")
    page.locator("#changelist-filter").get_by_role("link", name="迎新晚会").click()
    expect(page.locator("h1")).to_have_text("报名记录：迎新晚会")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)

    page.fill("#searchbar", "签到了但未签退")
    page.press("#searchbar", "Enter")
    expect(page.locator("#changelist-search")).to_contain_text("1 条结果")
    expect(rows).to_have_count(1)
    assert rows.first.locator("th, td").all_inner_texts()[1:3] == [left_early.username, "钱同学"]
    page.snapshot("good-expression")

    page.fill("#searchbar", "签到且(未签退")
    page.press("#searchbar", "Enter")
    expect(page.locator(".messagelist .error")).to_have_text(
        "打卡筛选有误，第 4 个字符处：左括号「(」缺少与之对应的右括号「)」。　→　签到且【(】未签退"
    )
    expect(rows).to_have_count(0)
    assert page.input_value("#searchbar") == "签到且(未签退"  # kept, to be corrected
    assert page.js_errors == []
