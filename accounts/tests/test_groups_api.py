"""Groups with titled members, managed by staff and by the group's managers; classes."""

import pytest

from accounts.models import GroupMembership
from accounts.tests.factories import (
    CampusGroupFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    StudentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def union():
    return CampusGroupFactory(name="学生会", description="校学生会")


@pytest.fixture
def chair(union):
    return GroupMembershipFactory(group=union, title="主席", is_manager=True).user


@pytest.fixture
def member(union):
    return GroupMembershipFactory(group=union, title="干事").user


def members_url(group, user=None):
    base = f"/groups/{group.id}/members/"
    return f"{base}{user.id}/" if user else base


def test_my_groups_with_my_title_and_member_counts(make_client, union, chair, member):
    GroupMembershipFactory(group=union, user=StudentFactory(is_active=False))
    CampusGroupFactory(name="书法协会")
    body = make_client(member).get("/groups/").json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": union.id,
            "name": "学生会",
            "description": "校学生会",
            "member_count": 2,
            "my_title": "干事",
            "i_manage": False,
        }
    ]
    assert make_client(chair).get("/groups/").json()["results"][0]["i_manage"] is True


def test_staff_see_every_group(staff_client, union):
    CampusGroupFactory(name="书法协会")
    body = staff_client.get("/groups/").json()
    assert [g["name"] for g in body["results"]] == ["书法协会", "学生会"]
    assert body["results"][1]["my_title"] is None


def test_members_list_managers_first_without_contact_details(make_client, union, chair, member):
    body = make_client(member).get(members_url(union)).json()
    assert [m["user"]["id"] for m in body["results"]] == [chair.id, member.id]
    first = body["results"][0]
    assert set(first) == {"user", "department", "title", "is_manager", "created_at"}
    assert set(first["user"]) == {"id", "username", "fullname", "kind"}
    assert (first["title"], first["is_manager"]) == ("主席", True)


def test_outsiders_cannot_see_a_group(api_client, union, member):
    assert api_client.get(members_url(union)).status_code == 404
    assert api_client.post(members_url(union), {"user": member.id}).status_code == 404


def test_a_manager_adds_retitles_and_removes_members(make_client, union, chair):
    client = make_client(chair)
    newcomer = StudentFactory()
    response = client.post(members_url(union), {"user": newcomer.id, "title": "宣传部长"})
    assert response.status_code == 201
    assert response.json()["title"] == "宣传部长"

    response = client.patch(members_url(union, newcomer), {"title": "副主席"})
    assert response.status_code == 200
    assert GroupMembership.objects.get(group=union, user=newcomer).title == "副主席"

    assert client.delete(members_url(union, newcomer)).status_code == 204
    assert not GroupMembership.objects.filter(group=union, user=newcomer).exists()


def test_adding_a_member_twice_is_a_clear_400(make_client, union, chair, member):
    response = make_client(chair).post(members_url(union), {"user": member.id})
    assert response.status_code == 400
    assert response.json() == {"user": ["该用户已是本组成员。"], "error_code": "member_exists"}


def test_inactive_or_unknown_users_cannot_be_added(make_client, union, chair):
    for user_id in (StudentFactory(is_active=False).id, 987654):
        response = make_client(chair).post(members_url(union), {"user": user_id})
        assert response.status_code == 400
        assert "user" in response.json()


def test_ordinary_members_cannot_manage(make_client, union, chair, member):
    client = make_client(member)
    assert client.post(members_url(union), {"user": StudentFactory().id}).status_code == 403
    response = client.patch(members_url(union, chair), {"title": "前主席"})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "只有管理员和本组的管理者可以管理成员。",
        "error_code": "permission_denied",
    }
    assert client.delete(members_url(union, chair)).status_code == 403


def test_only_staff_appoint_or_remove_managers(make_client, staff_client, union, chair, member):
    client = make_client(chair)
    assert client.patch(members_url(union, member), {"is_manager": True}).status_code == 403
    other_manager = GroupMembershipFactory(group=union, is_manager=True).user
    assert client.delete(members_url(union, other_manager)).status_code == 403

    assert staff_client.patch(members_url(union, member), {"is_manager": True}).json()["is_manager"] is True
    assert staff_client.delete(members_url(union, other_manager)).status_code == 204


def test_a_manager_may_leave(make_client, union, chair):
    assert make_client(chair).delete(members_url(union, chair)).status_code == 204


def test_classes_with_counsellors_head_teacher_and_student_count(api_client):
    counsellor, head = (
        UserFactory(last_name="辅", first_name="导员"),
        UserFactory(last_name="班", first_name="主任"),
    )
    school_class = SchoolClassFactory(name="计科2024-1班", head_teacher=head)
    school_class.counsellors.add(counsellor)
    StudentFactory.create_batch(2, school_class=school_class)
    StudentFactory(school_class=school_class, is_active=False)

    body = api_client.get("/classes/", {"search": "计科2024-1"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["student_count"] == 2
    assert row["head_teacher"]["fullname"] == "班主任"
    assert [c["id"] for c in row["counsellors"]] == [counsellor.id]
    assert row["department"] == {"id": school_class.department.id, "name": school_class.department.name}


def test_group_lists_query_count_is_constant(
    make_client, staff_client, union, chair, django_assert_num_queries
):
    client = make_client(chair)
    client.get(members_url(union))
    staff_client.get("/groups/")
    # auth, the group, the count, the page
    with django_assert_num_queries(4):
        client.get(members_url(union))
    with django_assert_num_queries(3):
        staff_client.get("/groups/")
    for i in range(5):
        GroupMembershipFactory(group=union, title=f"干事{i}")
        CampusGroupFactory()
    with django_assert_num_queries(4):
        assert client.get(members_url(union)).json()["count"] == 6
    with django_assert_num_queries(3):
        assert staff_client.get("/groups/").json()["count"] == 6


def test_class_list_query_count_is_constant(api_client, django_assert_num_queries):
    def add_class():
        school_class = SchoolClassFactory(head_teacher=UserFactory())
        school_class.counsellors.add(UserFactory(), UserFactory())
        StudentFactory(school_class=school_class)

    add_class()
    api_client.get("/classes/")
    # auth, count, page, counsellors
    with django_assert_num_queries(4):
        api_client.get("/classes/")
    for _ in range(5):
        add_class()
    with django_assert_num_queries(4):
        assert api_client.get("/classes/").json()["count"] == 6
