"""Excel/CSV import and export of users, from the admin and from `manage.py import_users`."""

import io

import openpyxl
import pytest
import tablib
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from accounts.resources import UserResource
from accounts.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADERS = [
    "工号/学号",
    "姓",
    "名",
    "身份",
    "电子邮箱",
    "系所",
    "班级",
    "职位",
    "手机",
    "办公电话",
    "初始密码",
]


def write_xlsx(path, rows, headers=HEADERS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_import_creates_users_and_is_idempotent(tmp_path):
    DepartmentFactory(name="软件工程系")
    path = write_xlsx(
        tmp_path / "users.xlsx",
        [
            [
                "T9001",
                "单",
                "雄信",
                "教师",
                "sxx@example.edu.cn",
                "软件工程系",
                None,
                "讲师",
                "13900000000",
                None,
                "init-pass-1",
            ],
            ["S9002", "曾", "小明", "学生", None, None, None, None, None, None, None],
        ],
    )
    out = io.StringIO()
    call_command("import_users", str(path), stdout=out)
    assert "新增 2" in out.getvalue()
    teacher = User.objects.get(username="T9001")
    assert teacher.department.name == "软件工程系"
    assert teacher.kind == "teacher" and teacher.post == "讲师"
    assert teacher.check_password("init-pass-1")
    assert (teacher.alpha, teacher.name_initials) == ("S", "sxx")
    student = User.objects.get(username="S9002")
    assert student.kind == "student"
    assert not student.has_usable_password()  # no password given: cannot log in until one is set

    out = io.StringIO()
    call_command("import_users", str(path), stdout=out)
    assert "新增 0" in out.getvalue()
    assert User.objects.filter(username__in=["T9001", "S9002"]).count() == 2
    teacher.refresh_from_db()
    assert teacher.check_password("init-pass-1")


def test_reimport_without_password_keeps_the_existing_one(tmp_path):
    user = UserFactory(username="T7000")
    path = write_xlsx(
        tmp_path / "u.xlsx", [["T7000", "王", "五", "教师", None, None, None, "教授", None, None, None]]
    )
    call_command("import_users", str(path), stdout=io.StringIO())
    user.refresh_from_db()
    assert user.post == "教授" and user.last_name == "王"
    assert user.check_password("pass-word-123")


def test_bad_rows_are_reported_and_nothing_is_imported(tmp_path):
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["T8001", "赵", "六", "教师", None, None, None, None, None, None, None],
            ["T8002", "钱", "七", "校长", None, None, None, None, None, None, None],
            ["T8003", "孙", "八", "教师", None, "不存在的系", None, None, None, None, None],
            ["T8004", "李", "九", "教师", "not-an-email", None, None, None, None, None, None],
        ],
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 行有错误"):
        call_command("import_users", str(path), stdout=io.StringIO(), stderr=err)
    report = err.getvalue()
    assert "第 3 行" in report and "身份“校长”无效" in report
    assert "第 4 行" in report and "系所“不存在的系”不存在" in report
    assert "第 5 行" in report and "email" in report
    assert not User.objects.filter(username__startswith="T800").exists()


def test_csv_import_with_progress(tmp_path):
    path = tmp_path / "users.csv"
    lines = [",".join(HEADERS)] + [f"S{5000 + i},周,同学{i},学生,,,,,,," for i in range(25)]
    path.write_text("\n".join(lines), encoding="utf-8-sig")
    out = io.StringIO()
    call_command("import_users", str(path), "--batch-size", "10", stdout=out)
    assert "25/25" in out.getvalue()
    assert User.objects.filter(username__startswith="S50").count() == 25


def test_export_then_import_round_trip():
    department = DepartmentFactory(name="网络工程系")
    UserFactory(username="T6001", last_name="冯", first_name="一", department=department, phone="13700000000")
    UserFactory(username="T6002", last_name="陈", first_name="二", department=None)
    exported = UserResource().export()
    assert exported.headers[:3] == ["工号/学号", "姓", "名"]
    rows = {row[0]: row for row in exported}
    assert rows["T6001"][5] == "网络工程系" and rows["T6001"][3] == "教师"

    User.objects.filter(username="T6002").delete()
    dataset = tablib.Dataset().load(exported.export("xlsx"), format="xlsx")
    result = UserResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 1 and result.totals["skip"] >= 1
    restored = User.objects.get(username="T6002")
    assert restored.full_name == "陈二" and not restored.has_usable_password()


EXPORTED_FIELDS = [
    "username",
    "last_name",
    "first_name",
    "kind",
    "email",
    "department",
    "school_class",
    "post",
    "phone",
    "tel",
]


def test_admin_export_and_import_pages(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:accounts_user_import")).status_code == 200
    UserFactory(
        username="T6101", last_name="冯", first_name="一", department=DepartmentFactory(name="网络工程系")
    )
    page = client.get(reverse("admin:accounts_user_export"))
    assert page.status_code == 200
    formats = dict(page.context["form"].fields["format"].choices)
    xlsx = next(value for value, label in formats.items() if label == "xlsx")
    # What the page's form sends: the format, the resource and every field's box (all ticked).
    form = {"format": xlsx, "resource": "0", **{f"userresource_{name}": "on" for name in EXPORTED_FIELDS}}
    response = client.post(reverse("admin:accounts_user_export"), form)
    # The file itself, not the form shown again with an error.
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".xlsx" in disposition
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADERS[: len(EXPORTED_FIELDS)]
    exported = {row[0]: row for row in rows[1:]}
    assert exported["T6101"][:3] == ["T6101", "冯", "一"] and exported["T6101"][5] == "网络工程系"
