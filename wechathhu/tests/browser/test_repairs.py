"""Repair dashboard in a real browser: the open requests by category and age, drawn as an SVG chart."""

from datetime import timedelta

import pytest
from django.utils import timezone

from repairs.models import RepairRequest, RepairStatus
from repairs.tests.factories import FaultCategoryFactory, RepairRequestFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_repair_dashboard_draws_open_requests_by_category_and_age(page, admin_login, superuser):
    network = FaultCategoryFactory(name="网络故障", position=1)
    projector = FaultCategoryFactory(name="投影设备", position=2)
    RepairRequestFactory.create_batch(2, category=network)
    old = RepairRequestFactory(category=network, status=RepairStatus.PROCESSING, location="勤学楼 305")
    RepairRequestFactory(category=projector)
    RepairRequestFactory(category=projector, status=RepairStatus.SOLVED)  # solved: not on the board
    now = timezone.now()
    RepairRequest.objects.filter(pk=old.pk).update(
        created_at=now - timedelta(days=4), due_at=now - timedelta(days=3)
    )

    admin_login(superuser)
    page.goto("/admin/repairs/repairrequest/")
    page.get_by_role("link", name="报修看板").click()

    assert page.locator("h1").inner_text() == "报修看板：未解决的报修"
    summary = page.locator(".summary")
    assert summary.locator("div").nth(0).inner_text().startswith("4\n")  # 3 网络 + 1 投影, solved left out
    assert summary.locator("div.overdue strong").inner_text() == "1"
    chart = page.get_by_role("img", name="未解决报修按分类和等待时间分布")
    assert chart.is_visible()
    assert chart.locator("text").all_text_contents() == ["网络故障", "3（超时 1）", "投影设备", "1"]
    bars = chart.locator("rect")
    assert bars.locator("title").all_text_contents() == [
        "网络故障：1 天内 2 条",
        "网络故障：3–7 天 1 条",
        "投影设备：1 天内 1 条",
    ]
    # The widest row fills the bar; the bars of one row add up to their share of it.
    widths = [float(w) for w in bars.evaluate_all("els => els.map(e => e.getAttribute('width'))")]
    assert widths[0] + widths[1] == pytest.approx(520, abs=0.2)
    assert widths[2] == pytest.approx(520 / 3, abs=0.2)
    overdue = page.locator("tr.overdue", has_text="勤学楼 305")
    assert overdue.is_visible()
    assert "处理中" in overdue.inner_text()
    assert page.js_errors == []
