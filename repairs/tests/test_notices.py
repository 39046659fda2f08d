"""The reporter is told of each status change (and each reply) through the message center."""

import pytest
from django.urls import reverse

from repairs import services
from repairs.models import RepairStatus
from wechathhu.core.errors import ApplicationError

from .factories import RepairRequestFactory

pytestmark = pytest.mark.django_db
S = RepairStatus


def inbox(client):
    """The reporter's messages as the message-center API (seed 001) lists them."""
    response = client.get(reverse("messaging:message-list"))
    assert response.status_code == 200
    return [(m["title"], m["content"], m["type"]) for m in response.json()["data"]["messages"]]


@pytest.fixture
def reporter_and_client(user, api_client):
    return user, api_client


def test_a_status_change_by_staff_reaches_the_reporters_inbox(
    reporter_and_client, staff_user, django_capture_on_commit_callbacks
):
    reporter, client = reporter_and_client
    repair = RepairRequestFactory(user=reporter, location="教学楼201")
    with django_capture_on_commit_callbacks(execute=True):
        services.repair_request_change_status(
            repair=repair, to_status=S.PROCESSING, by=staff_user, comment="已派人"
        )
    [(title, content, kind)] = inbox(client)
    assert title == "报修状态更新：处理中"
    assert content == f"您在“教学楼201”的报修（#{repair.pk}）状态已更新为“处理中”。\n处理说明：已派人"
    assert kind == "notification"


def test_solved_asks_the_reporter_to_confirm_or_reopen(
    reporter_and_client, staff_user, django_capture_on_commit_callbacks
):
    reporter, client = reporter_and_client
    repair = RepairRequestFactory(user=reporter, status=S.PROCESSING)
    with django_capture_on_commit_callbacks(execute=True):
        services.repair_request_change_status(repair=repair, to_status=S.SOLVED, by=staff_user)
    [(title, content, _)] = inbox(client)
    assert title == "报修状态更新：已解决" and "请在小程序中确认并评价" in content


def test_the_reporters_own_changes_send_them_nothing(
    reporter_and_client, staff_user, django_capture_on_commit_callbacks
):
    reporter, client = reporter_and_client
    repair = RepairRequestFactory(user=reporter, status=S.SOLVED, solved_at="2026-11-23T10:00:00+08:00")
    with django_capture_on_commit_callbacks(execute=True):
        services.repair_request_confirm(repair=repair, by=reporter, rating=5)
    assert inbox(client) == []


def test_a_reply_is_announced_but_an_internal_note_is_not(
    reporter_and_client, staff_user, django_capture_on_commit_callbacks
):
    reporter, client = reporter_and_client
    repair = RepairRequestFactory(user=reporter)
    with django_capture_on_commit_callbacks(execute=True):
        services.repair_request_comment(repair=repair, by=staff_user, content="内部：换交换机", internal=True)
        services.repair_request_comment(repair=repair, by=staff_user, content="明天上午上门", internal=False)
    [(title, content, _)] = inbox(client)
    assert title == "报修有新的回复" and content.endswith("明天上午上门") and "交换机" not in content


def test_a_refused_change_sends_nothing(reporter_and_client, staff_user):
    reporter, client = reporter_and_client
    repair = RepairRequestFactory(user=reporter, status=S.CLOSED)
    with pytest.raises(ApplicationError):
        services.repair_request_change_status(repair=repair, to_status=S.SOLVED, by=staff_user)
    assert inbox(client) == []


def test_a_change_from_the_admin_list_reaches_the_inbox(
    reporter_and_client, client, superuser, django_capture_on_commit_callbacks
):
    reporter, api_client = reporter_and_client
    repair = RepairRequestFactory(user=reporter)
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:repairs_repairrequest_changelist"),
            {"action": "accept", "_selected_action": [repair.pk]},
        )
    assert [t for t, _, _ in inbox(api_client)] == ["报修状态更新：处理中"]
