"""The back office: form builder save, projector page, 报名记录 with the filter box, export, statistics."""

import json
from datetime import timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.tests.factories import UserFactory
from activities import qr
from activities.models import Activity, ClockinRecord, ClockinSource, Enrollment, EnrollmentStatus
from activities.tests.factories import (
    ActivityFactory,
    ClockinItemFactory,
    ClockinRecordFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def _activity_post(**overrides):
    now = timezone.localtime()
    data = {
        "name": "新生讲座",
        "description": "",
        "location": "礼堂",
        "time_start_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
        "time_start_1": "09:00:00",
        "time_end_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
        "time_end_1": "11:00:00",
        "open_for_enrollment": "on",
        "participants_total_limit": "",
        "waiting_list_enabled": "on",
        "form_metas": json.dumps({"姓名": {"type": "text", "required": True}}, ensure_ascii=False),
        "audience_everyone": "on",
        "clockin_items-TOTAL_FORMS": "1",
        "clockin_items-INITIAL_FORMS": "0",
        "clockin_items-MIN_NUM_FORMS": "0",
        "clockin_items-MAX_NUM_FORMS": "1000",
        "clockin_items-0-label": "签到",
        "clockin_items-0-kind": "check_in",
        "clockin_items-0-from_time_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
        "clockin_items-0-from_time_1": "08:30:00",
        "clockin_items-0-to_time_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
        "clockin_items-0-to_time_1": "09:30:00",
    }
    data.update(overrides)
    return data


def test_activity_add_page_renders_the_form_builder(admin_client):
    response = admin_client.get(reverse("admin:activities_activity_add"))

    assert response.status_code == 200
    assert b"activities/form_builder.js" in response.content
    assert b"fb-root" in response.content


def test_activity_saved_with_a_valid_form_and_item(admin_client):
    response = admin_client.post(reverse("admin:activities_activity_add"), _activity_post())

    assert response.status_code == 302
    activity = Activity.objects.get(name="新生讲座")
    assert json.loads(activity.form_metas) == {"姓名": {"type": "text", "required": True}}
    assert activity.clockin_items.get().label == "签到"


def test_invalid_form_schema_is_refused_on_save(admin_client):
    bad = json.dumps({"性别": {"type": "radio", "choices": []}}, ensure_ascii=False)
    response = admin_client.post(reverse("admin:activities_activity_add"), _activity_post(form_metas=bad))

    assert response.status_code == 200
    assert "字段「性别」：选项必须是非空的文字列表。" in response.content.decode()
    assert not Activity.objects.exists()


def test_label_with_an_operator_is_refused_in_the_inline(admin_client):
    response = admin_client.post(
        reverse("admin:activities_activity_add"), _activity_post(**{"clockin_items-0-label": "签到了"})
    )

    assert response.status_code == 200
    assert "标签中不得包含" in response.content.decode()
    assert not Activity.objects.exists()


def test_projector_page_and_code_for_an_officer(client, activity):
    officer = UserFactory(is_staff=True)
    item = ClockinItemFactory(activity=activity, label="签到")
    item.officers.add(officer)
    client.force_login(officer)

    page = client.get(reverse("admin:activities_clockinitem_projector", args=[item.pk]))
    code = client.get(reverse("admin:activities_clockinitem_projector_code", args=[item.pk]))

    assert page.status_code == 200
    assert "签到" in page.content.decode()
    data = code.json()
    verdict = qr.check_key(data["key"])
    assert (verdict.item_id, verdict.valid, verdict.fresh) == (item.pk, True, True)
    assert data["svg"].startswith("<svg")
    assert 1 <= data["expires_in"] <= 25
    assert data["count"] == 0


def test_projector_is_forbidden_to_staff_who_are_not_officers(client, activity):
    item = ClockinItemFactory(activity=activity)
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("admin:activities_clockinitem_projector_code", args=[item.pk]))

    assert response.status_code == 403


def _enrollment_list(admin_client, activity, q=None):
    params = {"activity": activity.pk}
    if q is not None:
        params["q"] = q
    return admin_client.get(reverse("admin:activities_enrollment_changelist"), params)


def test_enrollment_list_has_a_column_per_field_and_item(admin_client, activity, sign_in):
    ClockinRecordFactory(item=sign_in, user=UserFactory())

    response = _enrollment_list(admin_client, activity)

    html = response.content.decode()
    assert response.status_code == 200
    for header in ("姓名", "学号", "性别", "爱好", "打卡：签到"):
        assert header in html
    assert "✓" in html


def test_filter_box_finds_signed_in_but_not_signed_out(admin_client, activity, sign_in):
    sign_out = ClockinItemFactory(activity=activity, label="签退")
    left_early, stayed = UserFactory(username="early"), UserFactory(username="stayed")
    ClockinRecordFactory(item=sign_in, user=left_early)
    ClockinRecordFactory(item=sign_in, user=stayed)
    ClockinRecordFactory(item=sign_out, user=stayed)

    response = _enrollment_list(admin_client, activity, "签到了但未签退")

    assert [e.user.username for e in response.context["cl"].result_list] == ["early"]


def test_filter_box_reports_the_position_of_a_mistake(admin_client, activity, sign_in):
    EnrollmentFactory(activity=activity)

    response = _enrollment_list(admin_client, activity, "签到或签推")

    html = response.content.decode()
    assert "第 4 个字符处" in html
    assert "没有名为「签推」的打卡项" in html
    assert list(response.context["cl"].result_list) == []


def test_enrollment_list_query_count_is_constant(admin_client, activity, sign_in, count_queries):
    ClockinRecordFactory(item=sign_in, user=UserFactory())
    _enrollment_list(admin_client, activity, "签到或未签到")
    one = count_queries(lambda: _enrollment_list(admin_client, activity, "签到或未签到"))
    for _ in range(8):
        ClockinRecordFactory(item=sign_in, user=UserFactory())
        EnrollmentFactory(activity=activity)

    assert count_queries(lambda: _enrollment_list(admin_client, activity, "签到或未签到")) == one


def test_export_has_every_answer_and_clockin(admin_client, activity, sign_in):
    user = UserFactory(username="X1", last_name="王", first_name="五")
    ClockinRecordFactory(item=sign_in, user=user)

    response = admin_client.get(reverse("admin:activities_enrollment_export"), {"activity": activity.pk})

    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-5:] == ("姓名", "学号", "性别", "爱好", "打卡：签到")
    assert rows[1][1:3] == ("X1", "王五")
    assert rows[1][-5:-1] == ("张三", "2001", "男", "编程")
    assert rows[1][-1]


def test_manual_clockin_action_is_recorded_as_manual(admin_client, superuser, activity, sign_in):
    enrollment = EnrollmentFactory(activity=activity)

    response = admin_client.post(
        reverse("admin:activities_enrollment_changelist") + f"?activity={activity.pk}",
        {"action": f"clockin_manual_{sign_in.pk}", "_selected_action": [enrollment.pk]},
    )

    assert response.status_code == 302
    record = ClockinRecord.objects.get(item=sign_in, user=enrollment.user)
    assert record.source == ClockinSource.MANUAL
    assert record.recorded_by == superuser


def test_statistics_page(admin_client, activity, sign_in):
    sign_in.kind = "check_in"
    sign_in.save()
    late = EnrollmentFactory(activity=activity)
    ClockinRecord.objects.create(item=sign_in, enrollment=late, user=late.user)
    EnrollmentFactory(activity=activity)
    Enrollment.objects.filter(pk=late.pk).update(status=EnrollmentStatus.ENROLLED)

    response = admin_client.get(reverse("admin:activities_activity_statistics", args=[activity.pk]))

    assert response.status_code == 200
    stats = response.context["stats"]
    assert stats.enrolled == 2
    assert (stats.items[0].clocked, stats.items[0].missing, stats.items[0].rate) == (1, 1, 50.0)
    assert "<svg" in response.content.decode()


def test_activity_changelist_and_search(admin_client, activity):
    response = admin_client.get(reverse("admin:activities_activity_changelist"), {"q": activity.name})
    assert response.status_code == 200
    assert activity.name in response.content.decode()


def test_manual_record_added_in_the_records_admin(admin_client, superuser, activity, sign_in):
    enrollment = EnrollmentFactory(activity=activity)
    stranger = UserFactory()
    url = reverse("admin:activities_clockinrecord_add")

    refused = admin_client.post(url, {"item": sign_in.pk, "user": stranger.pk})
    added = admin_client.post(url, {"item": sign_in.pk, "user": enrollment.user.pk})

    assert refused.status_code == 200 and "未报名" in refused.content.decode()
    assert added.status_code == 302
    record = ClockinRecord.objects.get()
    assert (record.user, record.source, record.recorded_by, record.enrollment) == (
        enrollment.user,
        ClockinSource.MANUAL,
        superuser,
        enrollment,
    )


def test_answers_edited_in_the_admin_are_validated(admin_client, activity):
    enrollment = EnrollmentFactory(activity=activity)
    url = reverse("admin:activities_enrollment_change", args=[enrollment.pk])

    bad = admin_client.post(url, {"participating_metas": json.dumps({"姓名": "", "爱好": ["编程"]})})
    good = admin_client.post(
        url, {"participating_metas": json.dumps({"姓名": "李四", "爱好": ["音乐"]}, ensure_ascii=False)}
    )

    assert bad.status_code == 200 and "必填项姓名不得为空" in bad.content.decode()
    assert good.status_code == 302
    enrollment.refresh_from_db()
    assert json.loads(enrollment.participating_metas)["姓名"] == "李四"


def test_deleting_an_enrollment_in_the_admin_promotes_the_waiting_list(admin_client):
    activity = ActivityFactory(participants_total_limit=1)
    holder = EnrollmentFactory(activity=activity)
    waiting = EnrollmentFactory(activity=activity, status=EnrollmentStatus.WAITING)

    response = admin_client.post(
        reverse("admin:activities_enrollment_changelist") + f"?activity={activity.pk}",
        {"action": "delete_selected_enrollments", "_selected_action": [holder.pk]},
    )

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == EnrollmentStatus.ENROLLED


def test_statistics_count_late_and_left_early(activity):
    from activities.selectors import activity_statistics

    sign_in = ClockinItemFactory(activity=activity, label="签到", kind="check_in")
    sign_out = ClockinItemFactory(activity=activity, label="签退", kind="check_out")
    on_time, late = EnrollmentFactory(activity=activity), EnrollmentFactory(activity=activity)
    EnrollmentFactory(activity=activity)  # never came
    EnrollmentFactory(activity=activity, status=EnrollmentStatus.WAITING)  # not counted
    for enrollment, minutes in ((on_time, -5), (late, 10)):
        record = ClockinRecord.objects.create(item=sign_in, enrollment=enrollment, user=enrollment.user)
        ClockinRecord.objects.filter(pk=record.pk).update(
            created_at=activity.time_start + timedelta(minutes=minutes)
        )
    early = ClockinRecord.objects.create(item=sign_out, enrollment=on_time, user=on_time.user)
    ClockinRecord.objects.filter(pk=early.pk).update(created_at=activity.time_end - timedelta(minutes=30))

    stats = activity_statistics(activity=activity)

    assert (stats.enrolled, stats.waiting) == (3, 1)
    first, second = stats.items
    assert (first.clocked, first.late, first.missing, first.rate) == (2, 1, 1, 66.7)
    assert (second.clocked, second.left_early, second.missing) == (1, 1, 2)
    assert [(g.enrolled, g.clocked.get(sign_in.pk, 0)) for g in stats.by_department] != []


def test_filter_box_works_across_activities_without_an_activity_filter(admin_client, activity, sign_in):
    other_item = ClockinItemFactory(label="签到")
    came_here, came_there = UserFactory(username="here"), UserFactory(username="there")
    ClockinRecordFactory(item=sign_in, user=came_here)
    ClockinRecordFactory(item=other_item, user=came_there)
    EnrollmentFactory(activity=activity, user=came_there)  # enrolled here too, but did not come here

    response = admin_client.get(reverse("admin:activities_enrollment_changelist"), {"q": "签到"})
    unknown = admin_client.get(reverse("admin:activities_enrollment_changelist"), {"q": "午饭"})

    rows = {(e.activity_id, e.user.username) for e in response.context["cl"].result_list}
    assert rows == {(activity.pk, "here"), (other_item.activity_id, "there")}
    assert "没有名为「午饭」的打卡项" in unknown.content.decode()


def test_saving_an_item_warns_about_officers_who_cannot_open_the_admin(admin_client, activity):
    outsider = UserFactory(username="T-no-admin", is_staff=False)
    now = timezone.localtime()
    day = (now + timedelta(days=1)).strftime("%Y-%m-%d")

    response = admin_client.post(
        reverse("admin:activities_clockinitem_add"),
        {
            "activity": activity.pk,
            "label": "签退",
            "kind": "check_out",
            "from_time_0": day,
            "from_time_1": "10:00:00",
            "to_time_0": day,
            "to_time_1": "11:00:00",
            "officers": [outsider.pk],
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "T-no-admin 不是后台用户" in response.content.decode()
    assert activity.clockin_items.get().officers.get() == outsider


def test_filter_box_reads_adjacent_labels_by_longest_match(admin_client, activity, sign_in):
    """Issue 16 item 6: 「签到签退」 (no space) is 签到 AND 签退, as README and DESIGN promise."""
    sign_out = ClockinItemFactory(activity=activity, label="签退")
    ClockinItemFactory(activity=activity, label="签到补录")
    left_early, stayed = UserFactory(username="early"), UserFactory(username="stayed")
    ClockinRecordFactory(item=sign_in, user=left_early)
    ClockinRecordFactory(item=sign_in, user=stayed)
    ClockinRecordFactory(item=sign_out, user=stayed)

    response = _enrollment_list(admin_client, activity, "签到签退")

    assert response.status_code == 200
    assert [e.user.username for e in response.context["cl"].result_list] == ["stayed"]
    assert "没有名为" not in response.content.decode()
