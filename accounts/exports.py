"""Contact sheets (通讯录) of departments and classes as Excel workbooks (openpyxl).

A sheet is meant to be handed to the people on it, so it follows each person's choices the way
a colleague would see them: a field its owner keeps to themselves (``nobody``) stays empty.
"""

import io
import re
from collections.abc import Iterable

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from wechathhu.core.spreadsheets import row_safe

from .models import Department, SchoolClass, User, UserKind, Visibility
from .privacy import PRIVATE_FIELDS
from .selectors import directory_order

COLUMNS = [
    ("工号/学号", "username", 14),
    ("姓名", "full_name", 12),
    ("身份", "kind", 8),
    ("职位", "post", 16),
    ("手机", "phone", 16),
    ("办公电话", "tel", 16),
    ("电子邮箱", "email", 28),
    ("QQ", "qq", 14),
    ("微信号", "wechat", 16),
]
KIND_LABELS = dict(UserKind.choices)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _cell(user: User, attribute: str) -> str:
    if attribute == "kind":
        return str(KIND_LABELS.get(user.kind, user.kind))
    if attribute in PRIVATE_FIELDS and getattr(user, f"{attribute}_visibility") == Visibility.NOBODY:
        return ""
    return getattr(user, attribute)


def _sheet_name(name: str, taken: set[str]) -> str:
    base = SHEET_NAME_FORBIDDEN.sub("_", name).strip() or "通讯录"
    candidate, n = base[:31], 2
    while candidate in taken:
        suffix = f"({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def _workbook(sections: Iterable[tuple[str, list[User]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for title, users in sections:
        sheet = book.create_sheet(_sheet_name(title, taken))
        sheet.append([label for label, _, _ in COLUMNS])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for index, (_, _, width) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        for user in users:
            sheet.append(row_safe(_cell(user, attribute) for _, attribute, _ in COLUMNS))
    if not book.sheetnames:
        book.create_sheet("通讯录").append([label for label, _, _ in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _members(queryset: QuerySet[User], key: str, ids: list[int]) -> dict[int, list[User]]:
    """Active users of the given departments/classes in directory order, in one query."""
    grouped: dict[int, list[User]] = {pk: [] for pk in ids}
    for user in directory_order(queryset.filter(is_active=True, **{f"{key}__in": ids})):
        grouped[getattr(user, key)].append(user)
    return grouped


def department_contact_sheet(*, departments: Iterable[Department]) -> bytes:
    """One sheet per department (its active members); one query whatever the size."""
    departments = list(departments)
    members = _members(User.objects.all(), "department_id", [d.pk for d in departments])
    return _workbook((d.name, members[d.pk]) for d in departments)


def school_class_contact_sheet(*, classes: Iterable[SchoolClass]) -> bytes:
    """One sheet per class: its head teacher and counsellors first, then its students."""
    classes = list(
        SchoolClass.objects.filter(pk__in=[c.pk for c in classes])
        .select_related("head_teacher")
        .prefetch_related("counsellors")
        .order_by("-grade", "name")
    )
    students = _members(User.objects.all(), "school_class_id", [c.pk for c in classes])
    sections = []
    for school_class in classes:
        leaders = [
            u for u in [school_class.head_teacher, *school_class.counsellors.all()] if u and u.is_active
        ]
        sections.append((school_class.name, list(dict.fromkeys(leaders)) + students[school_class.pk]))
    return _workbook(sections)


def claim_code_sheet(*, issued: list[tuple[User, str]]) -> bytes:
    """The one-time claim codes just issued, to print and hand out (the only copy)."""
    from django.conf import settings
    from django.utils import timezone

    expires = timezone.localtime(
        timezone.now() + timezone.timedelta(seconds=settings.ACCOUNTS_CLAIM_CODE_TTL)
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "认领码"
    sheet.append(["工号/学号", "姓名", "认领码", "有效期至"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for user, code in issued:
        sheet.append(row_safe([user.username, user.full_name, code, f"{expires:%Y-%m-%d %H:%M}"]))
    for column, width in zip("ABCD", (14, 12, 14, 18), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
