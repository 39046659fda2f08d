"""Excel/CSV import and export of users and classes (django-import-export), shared by the admin
and ``manage.py import_users``.

Users are matched by 工号/学号, so importing the same file twice changes nothing. A row with an
empty 初始密码 creates an account that cannot log in until a password is set; an existing
account's password is only replaced when the row gives one. Students come with their 班级
(by name; import the classes first): a row with a 班级 and no 身份 is a student, and only
students may have a class.

Classes are matched by name, with their 班主任 and 辅导员 given by 工号 (several separated by
commas or 、).
"""

import re

from import_export import fields, resources, widgets

from wechathhu.core.spreadsheets import safe_export_resource

from .models import Department, SchoolClass, User, UserKind
from .services.names import user_refresh_name_keys
from .usernames import username_key, username_normalize

KIND_BY_LABEL = {str(label): value for value, label in UserKind.choices}


class KindWidget(widgets.Widget):
    """身份 as its Chinese label (教师/学生/职工) or its code (teacher/student/staff)."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return UserKind.TEACHER
        if text in UserKind.values:
            return text
        if text in KIND_BY_LABEL:
            return KIND_BY_LABEL[text]
        raise ValueError(f"身份“{text}”无效，应为 教师、学生 或 职工。")

    def render(self, value, obj=None, **kwargs):
        return str(UserKind(value).label) if value in UserKind.values else ""


class NamedForeignKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key given by name; an unknown name is a row error, never a new row."""

    def __init__(self, model, label):
        super().__init__(model, field="name")
        self.label = label

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return self.model.objects.get(name=text)
        except self.model.DoesNotExist:
            raise ValueError(f"{self.label}“{text}”不存在，请先在后台添加。")


class UserByNumberWidget(widgets.ForeignKeyWidget):
    """A user given by 工号; an unknown number is a row error."""

    def __init__(self, label):
        super().__init__(User, field="username")
        self.label = label

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return User.objects.get_by_natural_key(text)
        except User.DoesNotExist:
            raise ValueError(f"{self.label}工号“{text}”不存在。")


# Every exported cell is safe to open in a spreadsheet program (wechathhu/core/spreadsheets.py).
SafeModelResource = safe_export_resource(resources.ModelResource)


def _stored_spellings(keys: dict) -> list[str]:
    """How the accounts behind these normalised numbers are stored (any case)."""
    from django.db.models import Q

    query = Q()
    for key in keys:
        query |= Q(username__iexact=key)
    return list(User.objects.filter(query).values_list("username", flat=True)) if keys else []


class UsersByNumberWidget(widgets.ManyToManyWidget):
    """Users given by 工号, separated by commas or 、; any unknown number is a row error."""

    SPLIT = re.compile(r"[,，、;；\s]+")

    def __init__(self, label):
        super().__init__(User, separator=",", field="username")
        self.label = label

    def clean(self, value, row=None, **kwargs):
        numbers = [n for n in self.SPLIT.split(str(value or "").strip()) if n]
        if not numbers:
            return User.objects.none()
        keys = {username_key(n): n for n in numbers}
        found = User.objects.filter(username__in=_stored_spellings(keys))
        missing = sorted(set(keys) - {username_key(u) for u in found.values_list("username", flat=True)})
        missing = [keys[k] for k in missing]
        if missing:
            raise ValueError(f"{self.label}工号“{'、'.join(missing)}”不存在。")
        return found


class UserResource(SafeModelResource):
    username = fields.Field(attribute="username", column_name="工号/学号")
    last_name = fields.Field(attribute="last_name", column_name="姓")
    first_name = fields.Field(attribute="first_name", column_name="名")
    kind = fields.Field(attribute="kind", column_name="身份", widget=KindWidget())
    email = fields.Field(attribute="email", column_name="电子邮箱")
    department = fields.Field(
        attribute="department", column_name="系所", widget=NamedForeignKeyWidget(Department, "系所")
    )
    school_class = fields.Field(
        attribute="school_class", column_name="班级", widget=NamedForeignKeyWidget(SchoolClass, "班级")
    )
    post = fields.Field(attribute="post", column_name="职位")
    phone = fields.Field(attribute="phone", column_name="手机")
    tel = fields.Field(attribute="tel", column_name="办公电话")

    PASSWORD_COLUMN = "初始密码"  # noqa: S105 - a column title, not a password

    class Meta:
        model = User
        import_id_fields = ("username",)
        fields = (
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
        )
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_bulk = False

    def before_import_row(self, row, **kwargs):
        username = username_normalize(row.get("工号/学号"))
        if not username:
            raise ValueError("工号/学号不能为空。")
        # Another spelling of an existing account's number (t1001 for T1001) updates that account.
        existing = User.objects.filter(username__iexact=username).values_list("username", flat=True).first()
        row["工号/学号"] = existing or username
        for column in ("姓", "名", "电子邮箱", "职位", "手机", "办公电话"):
            if column in row and row[column] is None:
                row[column] = ""
        school_class = str(row.get("班级") or "").strip()
        kind = str(row.get("身份") or "").strip()
        if school_class and not kind:
            row["身份"] = UserKind.STUDENT
        elif school_class and KindWidget().clean(kind) != UserKind.STUDENT:
            raise ValueError(f"只有学生可以属于班级（身份为“{kind}”，班级为“{school_class}”）。")

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        password = str(row.get(self.PASSWORD_COLUMN) or "").strip()
        if password:
            instance.set_password(password)
        elif not instance.pk:
            instance.set_unusable_password()
        user_refresh_name_keys(instance)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if str(row.get(self.PASSWORD_COLUMN) or "").strip():
            return False  # a new password is a change even when the other columns are equal
        return super().skip_row(instance, original, row, import_validation_errors)

    def get_export_queryset(self, request=None):
        return User.objects.select_related("department", "school_class").order_by("username")


class SchoolClassResource(SafeModelResource):
    name = fields.Field(attribute="name", column_name="班级")
    grade = fields.Field(attribute="grade", column_name="年级", widget=widgets.IntegerWidget())
    major = fields.Field(attribute="major", column_name="专业")
    department = fields.Field(
        attribute="department", column_name="系所", widget=NamedForeignKeyWidget(Department, "系所")
    )
    head_teacher = fields.Field(
        attribute="head_teacher", column_name="班主任工号", widget=UserByNumberWidget("班主任")
    )
    counsellors = fields.Field(
        attribute="counsellors", column_name="辅导员工号", widget=UsersByNumberWidget("辅导员")
    )

    class Meta:
        model = SchoolClass
        import_id_fields = ("name",)
        fields = ("name", "grade", "major", "department", "head_teacher", "counsellors")
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_bulk = False

    def before_import_row(self, row, **kwargs):
        name = str(row.get("班级") or "").strip()
        if not name:
            raise ValueError("班级名称不能为空。")
        row["班级"] = name
        if row.get("专业") is None:
            row["专业"] = ""

    def get_export_queryset(self, request=None):
        return (
            SchoolClass.objects.select_related("department", "head_teacher")
            .prefetch_related("counsellors")
            .order_by("-grade", "name")
        )
