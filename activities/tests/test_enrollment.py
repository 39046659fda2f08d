"""Enrollment over the API: rules, capacity under a lock, the waiting list, visibility, queries."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    GroupMembershipFactory,
    UserFactory,
)
from activities import services
from activities.models import Enrollment, EnrollmentStatus
from activities.tests.factories import ActivityFactory, EnrollmentFactory
from conftest import client_for
from messaging.models import MessageRecipient

pytestmark = pytest.mark.django_db
ANSWERS = {"姓名": "张三", "爱好": ["编程"]}


def enroll(client, activity, answers=ANSWERS, **extra):
    return client.post(
        "/enrollments/",
        {"activity": activity.pk, "participating_metas": json.dumps(answers, ensure_ascii=False), **extra},
        format="json",
    )


def test_answers_may_be_sent_as_an_object(api_client, activity):
    response = api_client.post(
        "/enrollments/", {"activity": activity.pk, "participating_metas": ANSWERS}, format="json"
    )
    assert response.status_code == 201
    assert response.data["status"] == "enrolled"
    assert json.loads(response.data["participating_metas"])["姓名"] == "张三"


STATE_CODES = {
    "报名通道暂未开启。": "not_open",
    "报名已截止，无法继续报名。": "deadline_passed",
    "该活动已结束，无法继续报名。": "ended",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"open_for_enrollment": False}, "报名通道暂未开启。"),
        ({"enroll_from": timezone.now() + timedelta(hours=1)}, "报名通道暂未开启。"),
        ({"enroll_until": timezone.now() - timedelta(hours=1)}, "报名已截止，无法继续报名。"),
        (
            {
                "time_start": timezone.now() - timedelta(hours=3),
                "time_end": timezone.now() - timedelta(hours=1),
            },
            "该活动已结束，无法继续报名。",
        ),
    ],
)
def test_activity_state_errors_are_under_activity(api_client, changes, message):
    activity = ActivityFactory(**changes)
    response = enroll(api_client, activity)
    assert response.status_code == 400
    assert response.data == {"activity": [message], "error_code": STATE_CODES[message]}


def test_unknown_activity_is_a_field_error(api_client):
    response = enroll(api_client, type("A", (), {"pk": 99999})())
    assert response.status_code == 400
    assert list(response.data) == ["activity", "error_code"]


def test_second_enrollment_is_refused(api_client, activity):
    assert enroll(api_client, activity).status_code == 201
    again = enroll(api_client, activity)
    assert again.data == {"non_field_errors": ["你已经报名过该活动。"], "error_code": "already_enrolled"}


def test_json_number_in_a_number_field_is_accepted_not_a_500(api_client, activity):
    response = enroll(api_client, activity, {**ANSWERS, "学号": 2001})
    assert response.status_code == 201


def test_unknown_keys_are_refused(api_client, activity):
    response = enroll(api_client, activity, {**ANSWERS, "备注": "x"})
    assert response.data == {
        "non_field_errors": ["报名表单中没有该字段（字段：备注）"],
        "error_code": "form_invalid",
    }


@pytest.mark.parametrize("bad", ["", "[1]", "不是 JSON", 12, None])
def test_answers_that_are_not_an_object_are_refused(api_client, activity, bad):
    response = api_client.post(
        "/enrollments/", {"activity": activity.pk, "participating_metas": bad}, format="json"
    )
    assert response.status_code == 400


def test_audience_limits_who_sees_and_enrolls(make_client):
    department = DepartmentFactory()
    group = CampusGroupFactory()
    insider, member, outsider = UserFactory(department=department), UserFactory(), UserFactory()
    GroupMembershipFactory(group=group, user=member)
    activity = ActivityFactory(audience_everyone=False)
    activity.audience_departments.add(department)
    activity.audience_groups.add(group)

    for person in (insider, member):
        client = make_client(person)
        assert [a["id"] for a in client.get("/activities/").data["results"]] == [activity.pk]
        assert enroll(client, activity).status_code == 201
    stranger = make_client(outsider)
    assert stranger.get("/activities/").data["results"] == []
    assert stranger.get(f"/activities/{activity.pk}/").status_code == 404
    # the same answer as for an activity that does not exist: its existence is not revealed
    assert enroll(stranger, activity).data == {
        "activity": [f"无效主键 “{activity.pk}” － 对象不存在。"],
        "error_code": "does_not_exist",
    }
    missing = stranger.post("/enrollments/", {"activity": 999999, "participating_metas": "{}"}, format="json")
    assert missing.data == {"activity": ["无效主键 “999999” － 对象不存在。"], "error_code": "does_not_exist"}


def test_closed_and_ended_activities_stay_visible_to_people_enrolled(api_client, user):
    ended = ActivityFactory(
        time_start=timezone.now() - timedelta(days=2), time_end=timezone.now() - timedelta(days=1)
    )
    EnrollmentFactory(activity=ended, user=user)
    ended.open_for_enrollment = False
    ended.save()
    ActivityFactory(open_for_enrollment=False)  # closed, not mine: hidden

    listed = api_client.get("/activities/", {"my": "yes"}).data["results"]
    detail = api_client.get(f"/activities/{ended.pk}/")

    assert [a["id"] for a in listed] == [ended.pk]
    assert listed[0]["state"] == "ended" and listed[0]["state_display"] == "已结束"
    assert detail.status_code == 200 and detail.data["my_enrollment_count"] == 1
    assert [a["id"] for a in api_client.get("/activities/").data["results"]] == [ended.pk]


def test_bad_my_parameter_is_a_400(api_client):
    response = api_client.get("/activities/", {"my": "maybe"})
    assert response.status_code == 400
    assert response.data == {"my": ["my 只能是 yes 或 no。"], "error_code": "invalid_choice"}


def test_search_terms_must_all_match(api_client):
    ActivityFactory(name="人工智能 讲座")
    ActivityFactory(name="人工智能 比赛")
    names = [a["name"] for a in api_client.get("/activities/", {"search": "人工智能,讲座"}).data["results"]]
    assert names == ["人工智能 讲座"]


def test_activity_list_query_count_is_constant(api_client, user, count_queries):
    EnrollmentFactory(activity=ActivityFactory(), user=user)
    api_client.get("/activities/")
    one = count_queries(lambda: api_client.get("/activities/"))
    for _ in range(10):
        EnrollmentFactory(activity=ActivityFactory(participants_total_limit=5), user=user)
        EnrollmentFactory(activity=ActivityFactory())
    assert count_queries(lambda: api_client.get("/activities/")) == one
    assert api_client.get("/activities/").data["count"] == 21


# --- Capacity and the waiting list --------------------------------------------------------------


def test_full_activity_refuses_or_offers_the_waiting_list(api_client, make_client):
    activity = ActivityFactory(participants_total_limit=1)
    assert enroll(make_client(UserFactory()), activity).status_code == 201

    full = enroll(api_client, activity)
    waiting = enroll(api_client, activity, join_waiting_list=True)

    assert full.data == {"non_field_errors": ["报名人数已经达到上限，无法继续报名。"], "error_code": "full"}
    assert waiting.status_code == 201
    assert waiting.data["status"] == "waiting" and waiting.data["waiting_position"] == 1
    detail = api_client.get(f"/activities/{activity.pk}/").data
    assert (detail["enrollment_count"], detail["waiting_count"], detail["my_enrollment_status"]) == (
        1,
        1,
        "waiting",
    )
    assert detail["state"] == "full"


def test_no_waiting_list_when_disabled(api_client):
    activity = ActivityFactory(participants_total_limit=0, waiting_list_enabled=False)
    response = enroll(api_client, activity, join_waiting_list=True)
    assert response.data == {
        "non_field_errors": ["报名人数已经达到上限，无法继续报名。"],
        "error_code": "full",
    }


def test_cancel_promotes_the_waiting_list_in_order(make_client, django_capture_on_commit_callbacks):
    activity = ActivityFactory(participants_total_limit=1)
    holder, first, second = UserFactory(), UserFactory(), UserFactory()
    enrollment_id = enroll(make_client(holder), activity).data["id"]
    first_id = enroll(make_client(first), activity, join_waiting_list=True).data["id"]
    enroll(make_client(second), activity, join_waiting_list=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = make_client(holder).delete(f"/enrollments/{enrollment_id}/")

    assert response.status_code == 204
    statuses = dict(Enrollment.objects.values_list("user_id", "status"))
    assert statuses == {first.pk: EnrollmentStatus.ENROLLED, second.pk: EnrollmentStatus.WAITING}
    assert list(MessageRecipient.objects.values_list("recipient_id", flat=True)) == [first.pk]
    assert Enrollment.objects.get(pk=first_id).promoted_at is not None


def test_raising_the_capacity_promotes(make_client):
    activity = ActivityFactory(participants_total_limit=0)
    for _ in range(3):
        enroll(make_client(UserFactory()), activity, join_waiting_list=True)
    activity.participants_total_limit = 2
    activity.save()

    promoted = services.enrollment_promote_waiting(activity=activity)

    assert len(promoted) == 2
    assert Enrollment.objects.filter(status=EnrollmentStatus.WAITING).count() == 1


def test_own_enrollment_only(api_client, activity):
    other = EnrollmentFactory(activity=activity)
    assert api_client.get(f"/enrollments/{other.pk}/").status_code == 404
    assert api_client.delete(f"/enrollments/{other.pk}/").status_code == 404
    assert Enrollment.objects.filter(pk=other.pk).exists()


def test_enrollments_list_is_mine(api_client, user):
    """Seed 002 documents GET /enrollments/ (the original answered 405): it lists mine."""
    mine = EnrollmentFactory(user=user)
    EnrollmentFactory()
    assert [row["id"] for row in api_client.get("/enrollments/").json()["results"]] == [mine.pk]


def test_cancel_closes_when_the_activity_starts(api_client, user):
    started = ActivityFactory(time_start=timezone.now() - timedelta(minutes=5))
    mine = EnrollmentFactory(activity=started, user=user)

    response = api_client.delete(f"/enrollments/{mine.pk}/")

    assert response.status_code == 400
    assert response.data == {"detail": "活动已开始，无法取消报名。", "error_code": "cancel_after_start"}
    assert api_client.get(f"/enrollments/{mine.pk}/").data["id"] == mine.pk


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_capacity_holds_under_concurrent_enrollments():
    activity = ActivityFactory(participants_total_limit=5, waiting_list_enabled=True)
    people = [UserFactory() for _ in range(14)]
    clients = [client_for(p) for p in people]
    barrier = threading.Barrier(len(people))
    results = [None] * len(people)

    def worker(i):
        try:
            barrier.wait()
            results[i] = enroll(clients[i], activity, join_waiting_list=i % 2 == 0)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert Enrollment.objects.filter(activity=activity, status=EnrollmentStatus.ENROLLED).count() == 5
    enrolled = sum(1 for r in results if r.status_code == 201 and r.data["status"] == "enrolled")
    waiting = sum(1 for r in results if r.status_code == 201 and r.data["status"] == "waiting")
    refused = [r for r in results if r.status_code == 400]
    assert enrolled == 5
    assert waiting == Enrollment.objects.filter(activity=activity, status=EnrollmentStatus.WAITING).count()
    assert all(r.data["non_field_errors"] == ["报名人数已经达到上限，无法继续报名。"] for r in refused)
    assert enrolled + waiting + len(refused) == len(people)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_the_same_person_enrolling_twice_at_once_gets_one_enrollment():
    activity = ActivityFactory()
    person = UserFactory()
    clients = [client_for(person, device=f"d{i}") for i in range(6)]
    barrier = threading.Barrier(6)
    results = [None] * 6

    def worker(i):
        try:
            barrier.wait()
            results[i] = enroll(clients[i], activity)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(r.status_code for r in results) == [201] + [400] * 5
    assert Enrollment.objects.filter(activity=activity, user=person).count() == 1


def test_leaving_the_waiting_list_is_possible_after_the_start(api_client, user):
    started = ActivityFactory(time_start=timezone.now() - timedelta(minutes=5))
    waiting = EnrollmentFactory(activity=started, user=user, status=EnrollmentStatus.WAITING)

    assert api_client.delete(f"/enrollments/{waiting.pk}/").status_code == 204
    assert not Enrollment.objects.filter(pk=waiting.pk).exists()
