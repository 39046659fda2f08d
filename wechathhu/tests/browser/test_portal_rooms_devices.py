"""More of the portal on a phone (390 × 844, touch), axe-core on every page: a weekly series of
bookings from a room's booking page, cancelled from its own page; and signing every other device
out from 我的 → 登录设备 (a second browser is signed out, this one stays)."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AuthToken
from accounts.services.tokens import token_issue
from accounts.tests.factories import UserFactory
from reservations.models import Reservation, ReservationSeries
from reservations.tests.factories import MeetingroomFactory

from .conftest import TIMEOUT_MS
from .test_portal import PHONE, check, sign_in
from .test_portal import phone as handset  # noqa: F401 - a fixture: the phone-sized page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _next_tuesday():
    day = timezone.localdate() + timedelta(days=1)
    while day.isoweekday() != 2:
        day += timedelta(days=1)
    return day


def test_a_teacher_books_a_weekly_meeting_and_cancels_the_rest(handset, password):  # noqa: F811
    teacher = UserFactory(last_name="王", first_name="老师")
    room = MeetingroomFactory(name="勤学楼 402", location="勤学楼 4 楼", seats_count=12)
    page = handset
    sign_in(page, teacher, password)
    start = timezone.localtime().replace(hour=16, minute=0, second=0, microsecond=0) + timedelta(days=1)
    end = start + timedelta(hours=1)
    page.goto(
        "/m/rooms/book/?" + urlencode({"room": room.pk, "start": start.isoformat(), "end": end.isoformat()})
    )
    page.get_by_role("link", name="按周重复预约这间会议室").click()
    page.wait_for_url(re.compile(r"/m/rooms/series/new/\?room="))
    check(page, "series-new")
    expect(page.get_by_label("会议室")).to_have_value(str(room.pk))
    page.get_by_label("会议主题").fill("课题组周例会")
    page.get_by_label("周二").check()
    page.get_by_label("开始时间").fill("14:00")
    page.get_by_label("结束时间").fill("15:30")
    page.get_by_label("首次日期").fill(_next_tuesday().isoformat())
    page.get_by_label("或共几次").fill("3")
    page.get_by_role("button", name="预约", exact=True).click()
    page.wait_for_url(re.compile(r"/m/rooms/series/\d+/$"))
    expect(page.get_by_text("已预约 3 次。")).to_be_visible()
    expect(page.get_by_text("每周二 14:00–15:30")).to_be_visible()
    check(page, "series")
    series = ReservationSeries.objects.get(user=teacher)
    assert Reservation.objects.filter(series=series).count() == 3

    page.goto("/m/rooms/series/")
    check(page, "series-list")
    page.get_by_role("link", name=re.compile("课题组周例会")).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="取消剩余的所有各次").click()
    expect(page.get_by_text("已取消 3 次预约。")).to_be_visible()
    assert not Reservation.objects.filter(series=series).exists()
    assert page.js_errors == []


def test_sign_every_other_device_out(handset, browser, live_server, password):  # noqa: F811
    student = UserFactory()
    token_issue(user=student, device="iPhone 小程序")
    other = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="zh-CN")
    other.set_default_timeout(TIMEOUT_MS)
    try:
        elsewhere = other.new_page()
        elsewhere.checked = []
        sign_in(elsewhere, student, password)

        page = handset
        sign_in(page, student, password)
        page.goto("/m/me/devices/")
        check(page, "devices-others")
        page.get_by_role("button", name="让其他所有设备退出登录").click()
        expect(page.get_by_text("已让其他 2 台设备退出登录")).to_be_visible()
        expect(page.get_by_role("button", name="让其他所有设备退出登录")).to_have_count(0)
        assert not AuthToken.objects.filter(user=student).exists()
        elsewhere.goto("/m/")
        elsewhere.wait_for_url(re.compile(r"/m/login/"))  # signed out there
        page.goto("/m/")
        page.wait_for_url(re.compile(r"^https?://[^/?]+/m/$"))  # still signed in here
    finally:
        other.close()
    assert page.js_errors == []


def test_a_group_manager_adds_a_member_found_by_pinyin(handset, password):  # noqa: F811
    from accounts.models import GroupMembership
    from accounts.tests.factories import CampusGroupFactory, GroupMembershipFactory

    manager = UserFactory(last_name="李", first_name="四")
    group = CampusGroupFactory(name="学生会")
    GroupMembershipFactory(group=group, user=manager, is_manager=True, title="主席")
    newcomer = UserFactory(last_name="钱", first_name="七", name_pinyin="qianqi", name_initials="qq")
    page = handset
    sign_in(page, manager, password)
    page.goto("/m/contacts/")
    page.get_by_role("link", name="我的分组").click()
    page.wait_for_url(re.compile(r"/m/groups/$"))
    check(page, "groups")
    page.get_by_role("link", name=re.compile("学生会")).click()
    page.wait_for_url(re.compile(r"/m/groups/\d+/$"))
    page.get_by_label("按工号/学号、姓名或拼音查找").fill("qq")
    page.get_by_role("button", name="查找").click()
    page.wait_for_url(re.compile(r"\?q=qq"))
    page.get_by_label("钱七的职务（可选）").fill("干事")
    check(page, "group-search")
    page.get_by_role("button", name="将钱七加入本组").click()
    expect(page.get_by_text("已将钱七加入学生会。")).to_be_visible()
    check(page, "group")
    assert GroupMembership.objects.get(group=group, user=newcomer).title == "干事"
    assert page.js_errors == []
