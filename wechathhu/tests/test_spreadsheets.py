"""Issue 16 item 13: no cell of any export starts a formula (CSV/formula injection), through the
pages staff download them from: 报名记录, 通讯录, the message report, the undelivered list, the
user import/export and the guides' sample workbooks."""

import io
import json

import openpyxl
import pytest
import tablib
from django.urls import reverse

from accounts.resources import SchoolClassResource, UserResource
from accounts.tests.factories import DepartmentFactory, SchoolClassFactory, UserFactory
from wechathhu.core.spreadsheets import FORMULA_STARTS, cell_safe

EVIL = [
    '=HYPERLINK("http://evil.example","点我")',
    "+1+cmd|' /c calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "＝1+1",
]


def dangerous(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def cells(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    found = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {sheet.title}!{cell.coordinate}: {cell.value!r}"
                found.append(cell.value)
    return found


@pytest.mark.parametrize("text", EVIL)
def test_a_formula_start_is_neutralised_and_kept(text):
    assert cell_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["张三", "-5", "+8613800000000", "3.5", 7, -7, None, "a=b", ""])
def test_plain_values_stay_as_they_are(value):
    assert cell_safe(value) == value


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def evil_user(db):
    department = DepartmentFactory(name="软件工程系")
    return UserFactory(
        username="T7001", last_name=EVIL[0], first_name="", post=EVIL[1], phone=EVIL[2],
        email="", tel=EVIL[3], department=department,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_enrollment_export(admin_client, evil_user):
    from activities.tests.factories import ActivityFactory, EnrollmentFactory

    activity = ActivityFactory(name=EVIL[4])
    EnrollmentFactory(
        activity=activity,
        user=evil_user,
        participating_metas=json.dumps({"姓名": EVIL[3], "学号": 2001, "性别": "男", "爱好": ["编程"]}),
    )
    response = admin_client.get(reverse("admin:activities_enrollment_export"), {"activity": activity.pk})
    assert response.status_code == 200
    values = cells(response.content)
    assert not any(dangerous(v) for v in values)
    assert "'" + EVIL[0] in values and "'" + EVIL[3] in values and "'" + EVIL[4] in values


@pytest.mark.django_db
def test_the_contact_sheets(admin_client, evil_user):
    response = admin_client.post(
        reverse("admin:accounts_department_changelist"),
        {"action": "export_contact_sheet", "_selected_action": [evil_user.department_id]},
    )
    values = cells(response.content)
    assert not any(dangerous(v) for v in values)
    assert "'" + EVIL[0] in values and "'" + EVIL[1] in values and "'" + EVIL[3] in values
    school_class = SchoolClassFactory(name=EVIL[5])
    UserFactory(school_class=school_class, last_name=EVIL[6], first_name="")
    response = admin_client.post(
        reverse("admin:accounts_schoolclass_changelist"),
        {"action": "export_contact_sheet", "_selected_action": [school_class.pk]},
    )
    values = cells(response.content)
    assert not any(dangerous(v) for v in values) and "'" + EVIL[6] in values


@pytest.mark.django_db
def test_the_message_report(admin_client, evil_user):
    from messaging import services

    sender = UserFactory(is_staff=True, kind="staff", last_name=EVIL[1], first_name="")
    services.message_send(title=EVIL[0], sender=sender, recipient_ids=[evil_user.pk])
    response = admin_client.get(reverse("admin:messaging_message_report"), {"export": "xlsx"})
    assert response.status_code == 200
    values = cells(response.content)
    assert not any(dangerous(v) for v in values)
    assert "'" + EVIL[0] in values


@pytest.mark.django_db
def test_the_undelivered_list_in_both_formats(
    admin_client, evil_user, settings, django_capture_on_commit_callbacks
):
    from messaging import services

    settings.MESSAGING_PUSH_CHANNELS = ["wechat", "wechat_oa", "email"]
    with django_capture_on_commit_callbacks(execute=True):  # no channel reaches them
        message = services.message_send(title="通知", recipient_ids=[evil_user.pk])
    url = reverse("admin:messaging_message_delivery", args=[message.pk])
    values = cells(admin_client.get(url, {"export": "xlsx"}).content)
    assert any(str(v).startswith("'=") for v in values), values
    assert not any(dangerous(v) for v in values)
    text = admin_client.get(url, {"export": "csv"}).content.decode("utf-8-sig")
    rows = list(tablib.Dataset().load(text, format="csv"))
    assert rows and not any(dangerous(v) for row in rows for v in row)


@pytest.mark.django_db
def test_the_user_and_class_exports(admin_client, evil_user):
    SchoolClassFactory(name=EVIL[0], major=EVIL[2])
    for resource in (UserResource(), SchoolClassResource()):
        dataset = resource.export()
        assert not any(dangerous(v) for row in dataset for v in row)
    assert any(v == "'" + EVIL[0] for row in UserResource().export() for v in row)
    # The admin's 导出 page, as xlsx and as CSV.
    form = admin_client.get(reverse("admin:accounts_user_export")).context["form"]
    chosen = {name: "on" for name, field in form.fields.items() if field.initial is True}
    resource = form.fields["resource"].choices[0][0]
    formats = {label: value for value, label in form.fields["format"].choices}
    xlsx = admin_client.post(
        reverse("admin:accounts_user_export"), {**chosen, "resource": resource, "format": formats["xlsx"]}
    )
    assert "attachment" in xlsx["Content-Disposition"]
    values = cells(xlsx.content)
    assert "'" + EVIL[0] in values and not any(dangerous(v) for v in values)
    csv = admin_client.post(
        reverse("admin:accounts_user_export"), {**chosen, "resource": resource, "format": formats["csv"]}
    )
    rows = list(tablib.Dataset().load(csv.content.decode("utf-8-sig"), format="csv"))
    assert rows and not any(dangerous(v) for row in rows for v in row)


def test_the_guide_sample_workbooks():
    from guides.samples import build_xlsx

    values = cells(build_xlsx("表", [["标题"], [EVIL[0]], [5]]))
    assert values == ["标题", "'" + EVIL[0], 5]
