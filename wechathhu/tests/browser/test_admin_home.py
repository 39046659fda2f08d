"""The admin home in a real browser: a member of staff signs in, sees 今日概览 before the apps,
follows a figure to its filtered list; a superuser finds the scheduler under 系统. axe-core runs on
the home page (WCAG 2.2's target-size rule on): no serious or critical violation."""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from activities.tests.factories import (
    ActivityFactory,
    ClockinItemFactory,
    ClockinRecordFactory,
    EnrollmentFactory,
)
from guides.models import GuideMailRequest
from repairs.tests.factories import RepairRequestFactory
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local
from wechathhu.core.outbox import DeliveryStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}


def axe_clean(page, name):
    results = AXE.run(page, options=AXE_OPTIONS)
    bad = [v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in bad
    )
    assert not bad, f"axe on {name} ({page.url}):\n{report}"


def _today_data():
    today = timezone.localdate()
    RepairRequestFactory(location="勤学楼 301", due_at=timezone.now() - timedelta(hours=2))
    RepairRequestFactory(location="勤学楼 302")
    room = MeetingroomFactory(name="勤学楼 402")
    ReservationFactory(meetingroom=room, reserve_from=local(today, "09:00"), reserve_to=local(today, "10:00"))
    ReservationFactory(meetingroom=room, reserve_from=local(today, "09:30"), reserve_to=local(today, "10:30"))
    activity = ActivityFactory(
        name="人工智能前沿讲座", time_start=local(today, "14:00"), time_end=local(today, "16:00")
    )
    item = ClockinItemFactory(activity=activity, label="签到")
    people = [EnrollmentFactory(activity=activity).user for _ in range(4)]
    ClockinRecordFactory(item=item, user=people[0])
    GuideMailRequest.objects.create(
        guide_name="报销流程", email="a@example.edu.cn", status=DeliveryStatus.FAILED
    )


def test_staff_see_todays_overview_first_and_follow_a_figure(page, admin_login):
    if timezone.localtime().hour >= 23:
        pytest.skip("too close to midnight: today's bookings would be tomorrow's")
    _today_data()
    staff = UserFactory(is_staff=True, kind="staff", last_name="王", first_name="老师")
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["repairs", "reservations", "activities", "messaging", "guides"],
            codename__startswith="view_",
        )
        | Permission.objects.filter(content_type__app_label="django_celery_beat")
    )
    admin_login(staff)

    overview = page.locator("#overview")
    expect(page.locator("h1")).to_have_text("今日概览")
    # The overview comes before the apps, and 消息中心 leads the apps.
    assert page.evaluate(
        "document.querySelector('#overview').compareDocumentPosition(document.querySelector('.app-messaging'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    expect(page.locator("#content-main > div.module caption").first).to_contain_text("消息中心")
    repairs = overview.locator("#overview-repairs")
    expect(repairs.get_by_role("link", name=re.compile("超时未解决"))).to_contain_text("1")
    expect(
        overview.locator("#overview-bookings").get_by_role("link", name=re.compile("时间冲突"))
    ).to_contain_text("2")
    activity_row = overview.locator("#overview-activities tbody tr", has_text="人工智能前沿讲座")
    expect(activity_row.locator("td").last).to_have_text("25.0%")
    expect(overview.locator("#overview-failed")).to_contain_text("1")
    # No scheduler for staff who are not superusers, whatever their permissions.
    expect(page.locator("#content-main")).not_to_contain_text("系统")
    expect(page.locator(".app-django_celery_beat")).to_have_count(0)
    axe_clean(page, "admin home (staff)")
    page.snapshot("overview")

    repairs.get_by_role("link", name=re.compile("超时未解决")).click()
    page.wait_for_url(re.compile(r"/admin/repairs/repairrequest/\?overdue=yes"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody")).to_contain_text("勤学楼 301")
    assert page.js_errors == []


def test_a_superuser_finds_the_scheduler_under_system(page, admin_login, superuser):
    admin_login(superuser)
    system = page.locator("#content-main .module", has=page.locator("caption", has_text="系统"))
    expect(system).to_have_count(1)
    expect(system.get_by_role("link", name="周期性任务")).to_be_visible()
    axe_clean(page, "admin home (superuser)")
    system.get_by_role("link", name="周期性任务").click()
    page.wait_for_url(re.compile(r"/admin/django_celery_beat/periodictask/$"))
    assert page.js_errors == []
