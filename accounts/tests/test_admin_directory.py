"""Admin for the directory and audiences: filters, member counts, the add-to-group action,
contact sheets, class import."""

import io

import openpyxl
import pytest
import tablib
from django.urls import reverse

from accounts.models import GroupMembership, SchoolClass, User, Visibility
from accounts.resources import SchoolClassResource, UserResource
from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    FriendshipFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    StudentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("name", ["accounts_groupmembership", "accounts_friendship"])
def test_new_changelists_render(admin_client, name):
    GroupMembershipFactory()
    FriendshipFactory()
    assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_user_changelist_filters_by_kind_department_class_and_group(admin_client):
    member = GroupMembershipFactory().user
    other = StudentFactory()
    url = reverse("admin:accounts_user_changelist")
    for params in (
        {"campus_groups__id__exact": member.campus_groups.get().id},
        {"school_class__id__exact": member.school_class_id},
        {"department__id__exact": member.department_id, "kind__exact": "student"},
    ):
        page = admin_client.get(url, params).content.decode()
        assert member.username in page
        assert other.username not in page


def test_group_and_class_changelists_show_counts_in_constant_queries(
    admin_client, django_assert_max_num_queries
):
    def add():
        group = CampusGroupFactory()
        GroupMembershipFactory.create_batch(2, group=group)
        GroupMembershipFactory(group=group, is_manager=True)
        school_class = SchoolClassFactory(head_teacher=UserFactory())
        school_class.counsellors.add(UserFactory())
        StudentFactory.create_batch(2, school_class=school_class)

    add()
    urls = [
        reverse("admin:accounts_campusgroup_changelist"),
        reverse("admin:accounts_schoolclass_changelist"),
    ]
    counts = []
    for url in urls:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            admin_client.get(url)
        counts.append(len(ctx))
    for _ in range(4):
        add()
    for url, count in zip(urls, counts, strict=True):
        with django_assert_max_num_queries(count):
            page = admin_client.get(url)
        assert page.status_code == 200
    page = admin_client.get(urls[0]).content.decode()
    assert '<td class="field-member_count">3</td>' in page
    assert '<td class="field-manager_count">1</td>' in page
    assert '<td class="field-student_count">2</td>' in admin_client.get(urls[1]).content.decode()


def test_add_selected_users_to_a_group(admin_client):
    group = CampusGroupFactory(name="班干部")
    users = StudentFactory.create_batch(3)
    already = GroupMembershipFactory(group=group, user=users[0], title="班长")
    url = reverse("admin:accounts_user_changelist")
    selected = {"action": "add_to_group", "_selected_action": [u.pk for u in users]}

    page = admin_client.post(url, selected)
    assert page.status_code == 200
    assert "将所选用户加入分组" in page.content.decode()

    response = admin_client.post(
        url, {**selected, "apply": "1", "group": group.pk, "title": "委员"}, follow=True
    )
    assert "已将 2 人加入“班干部”" in response.content.decode()
    titles = dict(GroupMembership.objects.filter(group=group).values_list("user_id", "title"))
    assert titles == {users[0].pk: "班长", users[1].pk: "委员", users[2].pk: "委员"}
    already.refresh_from_db()
    assert already.title == "班长"


def test_add_to_group_needs_a_group(admin_client):
    user = StudentFactory()
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "add_to_group", "_selected_action": [user.pk], "apply": "1", "group": ""},
    )
    assert response.status_code == 200
    assert "该字段是必填项。" in response.content.decode()
    assert not GroupMembership.objects.exists()


def read_xlsx(content):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames}


def test_department_contact_sheet_follows_privacy(admin_client):
    department = DepartmentFactory(name="软件工程系")
    UserFactory(
        username="T5002",
        last_name="李",
        first_name="四",
        department=department,
        phone="139",
        qq="1",
        qq_visibility=Visibility.NOBODY,
    )
    UserFactory(username="T5001", last_name="张", first_name="三", department=department, phone="138")
    UserFactory(username="T5003", department=department, is_active=False)
    response = admin_client.post(
        reverse("admin:accounts_department_changelist"),
        {"action": "export_contact_sheet", "_selected_action": [department.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheets = read_xlsx(response.content)
    rows = sheets["软件工程系"]
    assert rows[0] == ["工号/学号", "姓名", "身份", "职位", "手机", "办公电话", "电子邮箱", "QQ", "微信号"]
    assert [r[0] for r in rows[1:]] == ["T5002", "T5001"]  # li before zhang; the inactive one left out
    assert rows[1][4] == "139" and rows[1][7] is None  # QQ kept private


def test_class_contact_sheet_lists_head_teacher_and_counsellors_first(admin_client):
    head, counsellor = UserFactory(username="T1"), UserFactory(username="T2")
    school_class = SchoolClassFactory(name="计科[1]班", head_teacher=head)
    school_class.counsellors.add(counsellor)
    StudentFactory(username="S1", school_class=school_class)
    response = admin_client.post(
        reverse("admin:accounts_schoolclass_changelist"),
        {"action": "export_contact_sheet", "_selected_action": [school_class.pk]},
    )
    sheets = read_xlsx(response.content)
    assert list(sheets) == ["计科_1_班"]
    assert [r[0] for r in sheets["计科_1_班"][1:]] == ["T1", "T2", "S1"]


def test_import_classes_then_students_with_their_class():
    department = DepartmentFactory(name="计算机科学与技术系")
    UserFactory(username="T3001")
    UserFactory(username="T3002")
    classes = tablib.Dataset(headers=["班级", "年级", "专业", "系所", "班主任工号", "辅导员工号"])
    classes.append(["计科2024-1班", 2024, "计算机科学与技术", "计算机科学与技术系", "T3001", "T3001、T3002"])
    result = SchoolClassResource().import_data(classes, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    school_class = SchoolClass.objects.get(name="计科2024-1班")
    assert school_class.department == department and school_class.head_teacher.username == "T3001"
    assert set(school_class.counsellors.values_list("username", flat=True)) == {"T3001", "T3002"}

    students = tablib.Dataset(
        headers=["工号/学号", "姓", "名", "身份", "电子邮箱", "系所", "班级", "初始密码"]
    )
    students.append(["S7001", "曾", "一", "", "", "计算机科学与技术系", "计科2024-1班", "start-pass-9"])
    result = UserResource().import_data(students, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    student = User.objects.get(username="S7001")
    assert (student.kind, student.school_class, student.alpha) == ("student", school_class, "Z")


def test_class_import_reports_unknown_teachers():
    classes = tablib.Dataset(headers=["班级", "年级", "专业", "系所", "班主任工号", "辅导员工号"])
    classes.append(["软工2024-1班", 2024, "", "", "", "T404, T405"])
    result = SchoolClassResource().import_data(classes, dry_run=True)
    assert result.has_errors() or result.has_validation_errors()
    messages = str([e.error for row in result.row_errors() for e in row[1]]) + str(
        [r.validation_error for r in result.invalid_rows]
    )
    assert "辅导员工号“T404、T405”不存在" in messages


def test_only_students_may_have_a_class():
    SchoolClassFactory(name="计科2024-2班")
    rows = tablib.Dataset(headers=["工号/学号", "姓", "名", "身份", "班级"])
    rows.append(["T9100", "王", "老师", "教师", "计科2024-2班"])
    result = UserResource().import_data(rows, dry_run=True)
    assert result.has_errors()
    assert "只有学生可以属于班级" in str(result.row_errors()[0][1][0].error)
    assert not User.objects.filter(username="T9100").exists()


def test_class_admin_import_page(admin_client):
    assert admin_client.get(reverse("admin:accounts_schoolclass_import")).status_code == 200


def test_group_change_page_edits_titles_and_adds_members_in_constant_queries(
    admin_client, django_assert_max_num_queries
):
    group = CampusGroupFactory(name="学生会")
    member = GroupMembershipFactory(group=group, title="干事")
    url = reverse("admin:accounts_campusgroup_change", args=[group.pk])
    admin_client.get(url)
    with django_assert_max_num_queries(6):
        admin_client.get(url)
    GroupMembershipFactory.create_batch(10, group=group)
    with django_assert_max_num_queries(6):
        assert admin_client.get(url).status_code == 200

    newcomer = StudentFactory()
    memberships = list(
        GroupMembership.objects.filter(group=group).order_by("-is_manager", "title", "user__username")
    )
    data = {
        "name": "学生会",
        "description": "",
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": len(memberships),
        "new-memberships-TOTAL_FORMS": 1,
        "new-memberships-INITIAL_FORMS": 0,
        "new-memberships-0-user": newcomer.pk,
        "new-memberships-0-title": "宣传委员",
        "new-memberships-0-group": group.pk,
    }
    for i, membership in enumerate(memberships):
        data[f"memberships-{i}-id"] = membership.pk
        data[f"memberships-{i}-group"] = group.pk
        data[f"memberships-{i}-title"] = "主席" if membership.pk == member.pk else membership.title
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert GroupMembership.objects.get(pk=member.pk).title == "主席"
    assert GroupMembership.objects.get(group=group, user=newcomer).title == "宣传委员"


def test_contact_sheets_take_constant_queries(django_assert_num_queries):
    from accounts import exports

    department = DepartmentFactory(name="信息安全系")
    school_class = SchoolClassFactory(department=department, head_teacher=UserFactory())
    school_class.counsellors.add(UserFactory())

    def add_people(n):
        UserFactory.create_batch(n, department=department)
        StudentFactory.create_batch(n, department=department, school_class=school_class)

    add_people(1)
    with django_assert_num_queries(1) as before:  # their people (the departments are given)
        exports.department_contact_sheet(departments=[department])
    with django_assert_num_queries(3):  # the classes, their counsellors, their students
        exports.school_class_contact_sheet(classes=[school_class])
    add_people(8)
    with django_assert_num_queries(len(before.captured_queries)):
        sheet = exports.department_contact_sheet(departments=[department])
    with django_assert_num_queries(3):
        exports.school_class_contact_sheet(classes=[school_class])
    assert len(read_xlsx(sheet)["信息安全系"]) == 1 + 18  # a header, 9 teachers and 9 students
