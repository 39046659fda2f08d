"""The repair desk in the admin: list, filters, editing through the services, dashboard."""

import datetime as dt
from email.utils import parseaddr

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from repairs.models import (
    EventKind,
    NotificationRecipient,
    RepairEvent,
    RepairNotification,
    RepairStatus,
)
from wechathhu.core.outbox import DeliveryStatus

from .factories import FaultCategoryFactory, RecipientFactory, RepairRequestFactory

pytestmark = pytest.mark.django_db
S = RepairStatus
CHANGELIST = "admin:repairs_repairrequest_changelist"


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def list_post(repairs, **changes):
    """The changelist's editable-columns form, with ``changes`` keyed by row index."""
    data = {"form-TOTAL_FORMS": len(repairs), "form-INITIAL_FORMS": len(repairs), "_save": "保存"}
    for i, repair in enumerate(repairs):
        data[f"form-{i}-id"] = repair.pk
        data[f"form-{i}-status"] = repair.status
        data[f"form-{i}-assignee"] = repair.assignee_id or ""
    for key, value in changes.items():
        data[key.replace("__", "-").replace("form_", "form-")] = value
    return data


def test_changelist_shows_status_category_assignee_age_and_overdue(admin_client):
    overdue = RepairRequestFactory(location="旧楼", due_at=timezone.now() - dt.timedelta(hours=1))
    RepairRequestFactory(location="新楼")
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    html = response.content.decode()
    assert "旧楼" in html and "新楼" in html and "⚠ 超时" in html and "报修看板" in html
    filtered = admin_client.get(reverse(CHANGELIST), {"overdue": "yes"})
    assert [r.pk for r in filtered.context["cl"].result_list] == [overdue.pk]


def test_changelist_search_by_location_and_reporter(admin_client):
    RepairRequestFactory(location="图书馆三楼", user=UserFactory(last_name="欧阳", first_name="修"))
    RepairRequestFactory(location="教学楼")
    for term in ("图书馆", "欧阳"):
        response = admin_client.get(reverse(CHANGELIST), {"q": term})
        assert [r.location for r in response.context["cl"].result_list] == ["图书馆三楼"]


def test_changelist_costs_the_same_queries_for_1_and_many_rows(admin_client):
    RepairRequestFactory()
    with CaptureQueriesContext(connection) as one:
        admin_client.get(reverse(CHANGELIST))
    for _ in range(10):
        RepairRequestFactory(assignee=UserFactory(is_staff=True))
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    assert len(many) == len(one)


def test_status_and_assignee_changed_from_the_list_go_through_the_services(admin_client, superuser):
    repair = RepairRequestFactory(status=S.PENDING)
    fixer = UserFactory(is_staff=True)
    response = admin_client.post(
        reverse(CHANGELIST),
        list_post([repair], **{"form-0-status": S.PROCESSING, "form-0-assignee": fixer.pk}),
    )
    assert response.status_code == 302
    repair.refresh_from_db()
    assert (repair.status, repair.assignee) == (S.PROCESSING, fixer)
    kinds = list(RepairEvent.objects.filter(request=repair).values_list("kind", "actor"))
    assert (EventKind.STATUS, superuser.pk) in kinds and (EventKind.ASSIGNED, superuser.pk) in kinds


def test_a_move_the_table_refuses_is_a_form_error_in_the_list(admin_client):
    repair = RepairRequestFactory(status=S.CLOSED)
    response = admin_client.post(reverse(CHANGELIST), list_post([repair], **{"form-0-status": S.SOLVED}))
    assert response.status_code == 200
    assert "报修不能从“已关闭”变为“已解决”。" in response.content.decode()
    repair.refresh_from_db()
    assert repair.status == S.CLOSED


def test_bulk_actions_change_what_they_may_and_report_the_rest(admin_client):
    pending, closed = RepairRequestFactory(status=S.PENDING), RepairRequestFactory(status=S.CLOSED)
    response = admin_client.post(
        reverse(CHANGELIST), {"action": "accept", "_selected_action": [pending.pk, closed.pk]}, follow=True
    )
    text = response.content.decode()
    assert "已将 1 条报修改为“处理中”。" in text
    # "受理" is for pending requests only (reopening a closed one is its own action).
    assert f"未更改：#{closed.pk}（当前为“已关闭”）" in text
    pending.refresh_from_db()
    closed.refresh_from_db()
    assert (pending.status, closed.status) == (S.PROCESSING, S.CLOSED)
    solved = RepairRequestFactory(status=S.SOLVED)
    response = admin_client.post(
        reverse(CHANGELIST), {"action": "mark_solved", "_selected_action": [solved.pk]}, follow=True
    )
    assert f"未更改：#{solved.pk}（报修已是“已解决”状态。）" in response.content.decode()


def test_assign_to_me(admin_client, superuser):
    repair = RepairRequestFactory()
    admin_client.post(reverse(CHANGELIST), {"action": "assign_to_me", "_selected_action": [repair.pk]})
    repair.refresh_from_db()
    assert repair.assignee == superuser


def test_change_form_reply_note_and_status(admin_client):
    repair = RepairRequestFactory(status=S.PROCESSING)
    url = reverse("admin:repairs_repairrequest_change", args=[repair.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "status": S.SOLVED,
            "assignee": "",
            "category": repair.category_id,
            "reply": "已更换网线",
            "note": "库存网线还剩 3 根",
            **{
                f"{prefix}-{k}": v
                for prefix in ("photos", "events", "notifications")
                for k, v in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))
            },
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    repair.refresh_from_db()
    assert repair.status == S.SOLVED
    events = {(e.kind, e.content, e.is_internal) for e in RepairEvent.objects.filter(request=repair)}
    assert (EventKind.STATUS, "已更换网线", False) in events
    assert (EventKind.NOTE, "库存网线还剩 3 根", True) in events


def test_dashboard_draws_open_requests_by_category_and_age(admin_client):
    network = FaultCategoryFactory(name="网络")
    now = timezone.now()
    RepairRequestFactory(category=network)
    old = RepairRequestFactory(category=network, status=S.PROCESSING, due_at=now - dt.timedelta(hours=1))
    RepairRequestFactory(category=network, status=S.SOLVED)  # not open
    RepairRequestFactory(category=None)
    type(old).objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=4))

    response = admin_client.get(reverse("admin:repairs_repairrequest_dashboard"))
    assert response.status_code == 200
    rows = {row.name: row for row in response.context["rows"]}
    assert rows["网络"].buckets == {"lt1d": 1, "d1_3": 0, "d3_7": 1, "gt7d": 0}
    assert (rows["网络"].total, rows["网络"].overdue) == (2, 1)
    assert rows["未分类"].total == 1
    html = response.content.decode()
    assert "<svg" in html and "网络：3–7 天 1 条" in html and f"#{old.pk}" in html
    assert "cdn" not in html.lower() and "<script" not in html.split("<svg")[1].split("</svg>")[0]


def test_dashboard_needs_staff(client, user):
    client.force_login(user)
    assert client.get(reverse("admin:repairs_repairrequest_dashboard")).status_code == 302


def test_deleting_a_category_with_recipients_is_refused_in_the_admin(admin_client):
    category = FaultCategoryFactory(name="网络")
    RecipientFactory(category=category)
    url = reverse("admin:repairs_faultcategory_delete", args=[category.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "受保护" in response.content.decode() or "protected" in response.content.decode()
    assert NotificationRecipient.objects.filter(category=category).exists()


def test_recipient_and_category_admin_pages(admin_client):
    RecipientFactory(category=None, name="办公室")
    response = admin_client.get(reverse("admin:repairs_notificationrecipient_changelist"))
    assert response.status_code == 200 and "全部类别（含未分类）" in response.content.decode()
    assert admin_client.get(reverse("admin:repairs_faultcategory_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:repairs_faultcategory_add")).status_code == 200


def test_changing_a_categorys_time_limit_moves_the_deadline_of_its_open_requests(admin_client):
    category = FaultCategoryFactory(name="网络", response_hours=24)
    open_one = RepairRequestFactory(category=category, status=S.PROCESSING)
    solved = RepairRequestFactory(category=category, status=S.SOLVED)
    solved_due = solved.due_at
    url = reverse("admin:repairs_faultcategory_change", args=[category.pk])
    response = admin_client.post(
        url,
        {
            "name": "网络",
            "position": 0,
            "response_hours": 4,
            "is_active": "on",
            "recipients-TOTAL_FORMS": 0,
            "recipients-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    open_one.refresh_from_db()
    solved.refresh_from_db()
    assert open_one.due_at == open_one.created_at + dt.timedelta(hours=4)
    assert solved.due_at == solved_due


def test_staff_can_resend_the_unsent_mail_of_a_request(admin_client, django_capture_on_commit_callbacks):
    repair = RepairRequestFactory()
    failed = RepairNotification.objects.create(
        request=repair,
        name="网管",
        email="net@example.edu.cn",
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        attempts=6,
    )
    RepairNotification.objects.create(
        request=repair,
        name="办公室",
        email="office@example.edu.cn",
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(CHANGELIST), {"action": "resend_mail", "_selected_action": [repair.pk]}, follow=True
        )
    assert "已重新排队 1 封未送达的通知邮件。" in response.content.decode()
    assert [parseaddr(to)[1] for m in mail.outbox for to in m.to] == ["net@example.edu.cn"]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.SENT, 1)  # a fresh set of attempts


def test_staff_who_may_only_view_cannot_change_statuses_from_the_list(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_repairrequest"))
    client.force_login(viewer)
    repair = RepairRequestFactory(status=S.PENDING)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    action_form = response.context["action_form"]
    offered = [value for value, _label in action_form.fields["action"].choices] if action_form else []
    assert "accept" not in offered
    client.post(reverse(CHANGELIST), {"action": "accept", "_selected_action": [repair.pk]})
    repair.refresh_from_db()
    assert repair.status == S.PENDING


def test_the_mail_list_shows_failures_and_resends_them(admin_client, django_capture_on_commit_callbacks):
    failed = RepairNotification.objects.create(
        request=RepairRequestFactory(),
        name="网管",
        email="net@example.edu.cn",
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        attempts=6,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    url = reverse("admin:repairs_repairnotification_changelist")
    response = admin_client.get(url, {"status": "failed"})
    assert response.status_code == 200 and "Connection unexpectedly closed" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"action": "outbox_retry", "_selected_action": [failed.pk]}, follow=True
        )
    assert "已重新排队 1 条未送达的记录。" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT and len(mail.outbox) == 1
