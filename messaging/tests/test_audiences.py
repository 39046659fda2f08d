"""Who may send to what (issue 20 item 7, issue 16 item 12): teachers send to their own classes and
groups without a staff grant; an audience covering everyone needs the global right; the API and the
admin compose form apply the one rule (``messaging.audiences``)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    StudentFactory,
    UserFactory,
)
from messaging.admin import MessageAdminForm
from messaging.models import Message

pytestmark = pytest.mark.django_db

CREATE = reverse("messaging:admin-message-list")
AUDIENCES = reverse("messaging:admin-audience-list")
BODY = {"title": "班会通知", "content": "周五班会", "type": "notification", "priority": "normal"}


def grant(user, *codenames):
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="messaging", codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def world(db):
    """Two classes (the counsellor is on the first), a group the manager runs, and people outside."""
    mine = SchoolClassFactory(name="软件2401")
    other = SchoolClassFactory(name="网络2402")
    counsellor = UserFactory(username="T900", last_name="王", first_name="辅导")
    mine.counsellors.add(counsellor)
    head = UserFactory(username="T901")
    other.head_teacher = head
    other.save()
    my_students = StudentFactory.create_batch(3, school_class=mine)
    their_students = StudentFactory.create_batch(2, school_class=other)
    club = CampusGroupFactory(name="摄影协会")
    manager = GroupMembershipFactory(group=club, is_manager=True, user=UserFactory(username="T902")).user
    member = GroupMembershipFactory(group=club, user=StudentFactory(school_class=other)).user
    outsider_group = CampusGroupFactory(name="学生会")
    return {
        "mine": mine,
        "other": other,
        "counsellor": counsellor,
        "head": head,
        "my_students": my_students,
        "their_students": their_students,
        "club": club,
        "manager": manager,
        "member": member,
        "outsider_group": outsider_group,
        "plain_teacher": UserFactory(username="T903"),
    }


def addressed(response):
    message = Message.objects.get(pk=response.json()["data"]["id"])
    return set(message.recipient_users.values_list("pk", flat=True))


def test_a_counsellor_messages_their_class_without_a_staff_grant(world, bearer):
    client = bearer(world["counsellor"])

    response = client.post(CREATE, {**BODY, "class_ids": [world["mine"].pk]}, format="json")

    assert response.status_code == 201, response.json()
    assert addressed(response) == {s.pk for s in world["my_students"]}
    assert [m["id"] for m in client.get(CREATE).json()["data"]["messages"]] == [response.json()["data"]["id"]]


def test_a_counsellor_messages_some_of_their_students_one_by_one(world, bearer):
    student = world["my_students"][0]

    response = bearer(world["counsellor"]).post(
        CREATE, {**BODY, "recipient_ids": [student.pk]}, format="json"
    )

    assert response.status_code == 201 and addressed(response) == {student.pk}


def test_a_head_teacher_and_a_group_manager_reach_their_own(world, bearer):
    by_head = bearer(world["head"]).post(CREATE, {**BODY, "class_ids": [world["other"].pk]}, format="json")
    by_manager = bearer(world["manager"]).post(
        CREATE, {**BODY, "group_ids": [world["club"].pk]}, format="json"
    )
    one_member = bearer(world["manager"]).post(
        CREATE, {**BODY, "recipient_ids": [world["member"].pk]}, format="json"
    )

    assert addressed(by_head) == {s.pk for s in world["their_students"]} | {world["member"].pk}
    assert addressed(by_manager) == {world["manager"].pk, world["member"].pk}
    assert addressed(one_member) == {world["member"].pk}


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        (lambda w: {"class_ids": [w["other"].pk]}, "class_ids", "网络2402"),
        (lambda w: {"group_ids": [w["outsider_group"].pk]}, "group_ids", "学生会"),
        (lambda w: {"recipient_ids": [w["their_students"][0].pk]}, "recipient_ids", "不在您负责"),
        (lambda w: {"department_ids": [DepartmentFactory().pk]}, "department_ids", "按系所"),
        (lambda w: {"kinds": ["student"]}, "kinds", "按身份"),
    ],
)
def test_anything_wider_than_their_own_is_a_403_naming_it(world, bearer, extra, field, says):
    response = bearer(world["counsellor"]).post(CREATE, {**BODY, **extra(world)}, format="json")

    body = response.json()
    assert response.status_code == 403 and body["code"] == 403
    assert says in body["message"]
    assert not Message.objects.exists()


def test_a_counsellor_cannot_send_global(world, bearer):
    response = bearer(world["counsellor"]).post(CREATE, {**BODY, "is_global": True}, format="json")
    assert response.status_code == 403 and response.json()["message"] == "您没有发送全局消息的权限。"


def test_a_teacher_with_no_class_or_group_may_not_send(world, bearer):
    client = bearer(world["plain_teacher"])
    assert (
        client.post(CREATE, {**BODY, "recipient_ids": [world["counsellor"].pk]}, format="json").status_code
        == 403
    )
    assert client.get(CREATE).status_code == 403
    assert client.get(AUDIENCES).status_code == 403


def test_adding_recipients_stays_within_the_scope(world, bearer):
    client = bearer(world["counsellor"])
    pk = client.post(CREATE, {**BODY, "recipient_ids": [world["my_students"][0].pk]}, format="json").json()[
        "data"
    ]["id"]
    url = reverse("messaging:admin-message-recipients", args=[pk])

    assert client.post(url, {"recipient_ids": [world["my_students"][1].pk]}, format="json").status_code == 200
    refused = client.post(url, {"recipient_ids": [world["their_students"][0].pk]}, format="json")
    assert refused.status_code == 403
    assert Message.objects.get(pk=pk).audience_size == 2


# --- issue 16 item 12: everyone needs the global right ------------------------------------------


def test_all_kinds_together_need_the_global_right(world, bearer, counsellor):
    everyone = {**BODY, "kinds": ["teacher", "student", "staff"]}

    refused = bearer(counsellor).post(CREATE, everyone, format="json")
    assert refused.status_code == 403 and "全部用户" in refused.json()["message"]
    assert not Message.objects.exists()

    allowed = bearer(grant(counsellor, "send_global")).post(CREATE, everyone, format="json")
    assert allowed.status_code == 201


def test_departments_that_cover_everyone_need_it_too(bearer, counsellor):
    from accounts.models import User

    departments = sorted(set(User.objects.filter(is_active=True).values_list("department_id", flat=True)))

    response = bearer(counsellor).post(CREATE, {**BODY, "department_ids": departments}, format="json")

    assert response.status_code == 403


def test_a_partial_kind_audience_is_fine_for_a_sender(world, bearer, counsellor):
    response = bearer(counsellor).post(CREATE, {**BODY, "kinds": ["student"]}, format="json")
    assert response.status_code == 201


def test_adding_recipients_up_to_everyone_needs_the_global_right(bearer, counsellor):
    from accounts.models import User

    first = UserFactory()
    client = bearer(counsellor)
    pk = client.post(CREATE, {**BODY, "recipient_ids": [first.pk]}, format="json").json()["data"]["id"]
    rest = list(User.objects.filter(is_active=True).exclude(pk=first.pk).values_list("pk", flat=True))

    response = client.post(
        reverse("messaging:admin-message-recipients", args=[pk]), {"recipient_ids": rest}, format="json"
    )

    assert response.status_code == 403 and Message.objects.get(pk=pk).audience_size == 1


# --- GET /api/v1/admin/audiences -----------------------------------------------------------------


def test_a_counsellor_lists_their_class_and_its_students(world, bearer):
    body = bearer(world["counsellor"]).get(AUDIENCES).json()

    assert body["code"] == 200 and body["message"] == "获取可发送范围成功"
    data = body["data"]
    assert (data["scope"], data["can_send_global"], data["kinds"]) == ("own", False, [])
    entries = [(a["type"], a["id"]) for a in data["audiences"]]
    assert entries[0] == ("class", world["mine"].pk)
    assert {pk for kind, pk in entries if kind == "user"} == {s.pk for s in world["my_students"]}
    assert data["audiences"][0]["size"] == 3 and data["audiences"][0]["name"] == "软件2401"
    assert data["pagination"]["total_items"] == 4


def test_a_manager_lists_their_group(world, bearer):
    data = bearer(world["manager"]).get(AUDIENCES, {"type": "group"}).json()["data"]
    assert [(a["type"], a["name"], a["size"]) for a in data["audiences"]] == [("group", "摄影协会", 2)]


def test_staff_list_everything_and_search(world, staff_client, superuser_client):
    data = staff_client.get(AUDIENCES, {"page_size": 100}).json()["data"]
    assert data["scope"] == "all" and data["kinds"] == ["teacher", "student", "staff"]
    kinds = {a["type"] for a in data["audiences"]}
    assert kinds == {"department", "class", "group"}
    found = staff_client.get(AUDIENCES, {"type": "class", "search": "网络"}).json()["data"]["audiences"]
    assert [a["name"] for a in found] == ["网络2402"]
    assert superuser_client.get(AUDIENCES).json()["data"]["can_send_global"] is True


def test_audiences_reject_a_bad_type(staff_client):
    response = staff_client.get(AUDIENCES, {"type": "planet"})
    assert response.status_code == 400 and "type" in response.json()["data"]


def test_audience_list_takes_constant_queries(world, staff_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6) as few:
        staff_client.get(AUDIENCES)
    SchoolClassFactory.create_batch(5)
    CampusGroupFactory.create_batch(5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(AUDIENCES)


# --- The admin compose form: the same rule --------------------------------------------------------


def _form(user, **data):
    request = RequestFactory().post("/")
    request.user = user
    form = MessageAdminForm(
        data={
            "title": "通知",
            "content": "",
            "type": "notification",
            "priority": "normal",
            "published_at": "2026-01-01 10:00",
            **data,
        },
        request=request,
    )
    return form


def test_admin_form_refuses_everyone_without_the_global_right(world, counsellor):
    staff = UserFactory(is_staff=True, kind="staff")
    form = _form(staff, kinds=["teacher", "student", "staff"])
    assert not form.is_valid()
    assert "全部用户" in str(form.errors)


def test_admin_form_limits_a_teacher_to_their_classes(world):
    form = _form(world["counsellor"], audience_classes=[world["other"].pk])
    assert not form.is_valid()
    assert list(form.fields["audience_classes"].queryset) == [world["mine"]]
    assert list(form.fields["audience_departments"].queryset) == []

    ok = _form(world["counsellor"], audience_classes=[world["mine"].pk])
    assert ok.is_valid(), ok.errors
