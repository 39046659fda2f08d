"""报名记录 as an Excel workbook: one column per form field and one per clock-in item."""

from __future__ import annotations

from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook

from wechathhu.core.spreadsheets import row_safe

from . import form_schema
from .models import Activity, ClockinSource

BATCH = 500


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def enrollments_workbook(*, queryset, activity: Activity | None) -> bytes:
    """``queryset`` must carry the records prefetch (see ``selectors.enrollment_records_prefetch``).

    Without one activity, the form and clock-in columns are the union over the rows, in order of
    first appearance.
    """
    rows = list(queryset.order_by("activity_id", "created_at", "id").iterator(chunk_size=BATCH))
    if activity is not None:
        fields = list(form_schema.form_schema_validate(activity.form_metas))
        items = [item.label for item in activity.clockin_items.all()]
    else:
        fields, items = [], []
        for enrollment in rows:
            for key in form_schema.answers_load(enrollment.participating_metas):
                if key not in fields:
                    fields.append(key)
            for record in enrollment.clockin_records.all():
                if record.item.label not in items:
                    items.append(record.item.label)

    book = Workbook(write_only=True)
    sheet = book.create_sheet("报名记录")
    header = ["活动", "工号/学号", "姓名", "系所", "班级", "状态", "报名时间", *fields]
    header += [f"打卡：{label}" for label in items]
    sheet.append(header)
    for enrollment in rows:
        user = enrollment.user
        answers = form_schema.answers_load(enrollment.participating_metas)
        records = {r.item.label: r for r in enrollment.clockin_records.all()}
        line = [
            enrollment.activity.name,
            user.username,
            user.full_name,
            user.department.name if user.department else "",
            user.school_class.name if user.school_class else "",
            enrollment.get_status_display(),
            _local(enrollment.created_at),
            *(form_schema.answer_display(answers.get(f)) for f in fields),
        ]
        for label in items:
            record = records.get(label)
            if record is None:
                line.append("")
            else:
                line.append(
                    _local(record.created_at) + ("（补录）" if record.source == ClockinSource.MANUAL else "")
                )
        sheet.append(row_safe(line))
    out = BytesIO()
    book.save(out)
    return out.getvalue()
