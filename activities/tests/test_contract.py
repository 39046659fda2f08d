"""The mini-program's activity calls C10–C15 (original-system §2.2), replayed exactly."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from activities import qr
from activities.models import ClockinRecord, Enrollment
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_c10_activity_list_first_load_tab_and_search(api_client, user):
    mine = ActivityFactory(name="人工智能讲座", participants_total_limit=None)
    other = ActivityFactory(name="合唱比赛", participants_total_limit=30)
    EnrollmentFactory(activity=mine, user=user)

    first = api_client.get("/activities/", {})
    assert first.status_code == 200
    assert set(first.data) == {"count", "next", "previous", "results"}
    rows = {r["id"]: r for r in first.data["results"]}
    for key in (
        "id",
        "name",
        "time_start",
        "time_end",
        "my_enrollment_count",
        "enrollment_count",
        "participants_total_limit",
    ):
        assert key in rows[mine.id]
    assert rows[mine.id]["my_enrollment_count"] == 1
    assert rows[mine.id]["enrollment_count"] == 1
    assert rows[mine.id]["participants_total_limit"] is None
    assert rows[other.id]["my_enrollment_count"] == 0
    assert rows[other.id]["participants_total_limit"] == 30
    assert rows[mine.id]["time_start"].endswith("+08:00")

    assert [r["id"] for r in api_client.get("/activities/", {"my": "yes"}).data["results"]] == [mine.id]
    assert {r["id"] for r in api_client.get("/activities/", {"my": "no"}).data["results"]} == {
        mine.id,
        other.id,
    }
    searched = api_client.get("/activities/", {"search": "讲座"}).data["results"]
    assert [r["id"] for r in searched] == [mine.id]


def test_c11_clockin_list(api_client, user, activity):
    sign_in = ClockinItemFactory(
        activity=activity, label="签到", from_time=timezone.now() - timedelta(hours=2)
    )
    ClockinItemFactory(activity=activity, label="签退", from_time=timezone.now() - timedelta(minutes=30))
    enrollment = EnrollmentFactory(activity=activity, user=user)
    ClockinRecord.objects.create(item=sign_in, enrollment=enrollment, user=user)

    response = api_client.get(f"/activities/clockins/{activity.id}/")

    assert response.status_code == 200
    assert [(r["label"], r["is_clockin"]) for r in response.data] == [("签到", True), ("签退", False)]


def test_c12_activity_detail(api_client, activity):
    response = api_client.get(f"/activities/{activity.id}/")

    assert response.status_code == 200
    for key in (
        "name",
        "time_start",
        "time_end",
        "location",
        "participants_total_limit",
        "my_enrollment_count",
        "description",
        "enrollment_count",
        "id",
    ):
        assert key in response.data
    assert response.data["location"] == activity.location


def test_c13_enroll_page_reads_form_metas_as_a_json_string(api_client, activity):
    response = api_client.get(f"/activities/{activity.id}/")

    assert response.data["my_enrollment_count"] == 0
    assert isinstance(response.data["form_metas"], str)
    schema = json.loads(response.data["form_metas"])
    assert list(schema) == ["姓名", "学号", "性别", "爱好"]
    assert response.data["name"] == activity.name
    assert response.data["id"] == activity.id


def test_c14_enroll_with_answers_as_a_json_string(api_client, user, activity):
    body = {
        "activity": activity.id,
        "participating_metas": json.dumps(
            {"姓名": "张三", "学号": "2001", "性别": "男", "爱好": ["编程"]}, ensure_ascii=False
        ),
    }

    response = api_client.post("/enrollments/", body, format="json")

    assert response.status_code == 201
    enrollment = Enrollment.objects.get(user=user, activity=activity)
    assert json.loads(enrollment.participating_metas) == {
        "姓名": "张三",
        "学号": 2001,
        "性别": "男",
        "爱好": ["编程"],
    }
    again = api_client.get(f"/activities/{activity.id}/")
    assert again.data["my_enrollment_count"] == 1


def test_c14_errors_use_the_keys_the_client_reads(api_client, user, activity):
    missing = api_client.post(
        "/enrollments/",
        {"activity": activity.id, "participating_metas": json.dumps({"学号": "1"})},
        format="json",
    )
    assert missing.status_code == 400
    assert missing.data == {
        "non_field_errors": ["必填项姓名不得为空。（字段：姓名）"],
        "error_code": "form_invalid",
    }

    closed = ActivityFactory(open_for_enrollment=False)
    response = api_client.post(
        "/enrollments/", {"activity": closed.id, "participating_metas": "{}"}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"activity": ["报名通道暂未开启。"], "error_code": "not_open"}


def test_c15_clockin_scan(api_client, user, activity, sign_in):
    EnrollmentFactory(activity=activity, user=user)

    response = api_client.post("/activities/clockins/", {"key": qr.make_key(sign_in.id)}, format="json")

    assert response.status_code == 200
    assert response.data["label"] == "签到"
    assert response.data["activity_name"] == activity.name


def test_c15_failure_is_a_400_detail(api_client, user, activity, sign_in):
    response = api_client.post("/activities/clockins/", {"key": "not a code"}, format="json")

    assert response.status_code == 400
    assert response.data == {"detail": "打卡二维码异常或已过期，请重试。", "error_code": "qr_invalid"}
