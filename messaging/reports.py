"""Read-only reporting for the admin: a message's audience with its state, and the statistics report.

Read rate = read / audience, from engagement only (``MessageRecipient.read_at``), never from
delivery. The audience of a global message is the number of users active when it was published.
Periods are bucketed in Python in Asia/Shanghai, so the report does not depend on the database's
time-zone tables.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Count, F, FilteredRelation, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils import timezone

from accounts.models import User
from wechathhu.core.downloads import xlsx_response

from .models import Message, MessagePriority, MessageRecipient, MessageType

MESSAGE_ROWS_ON_PAGE = 200


# --- One message's audience ---------------------------------------------------------------------


def message_audience(*, message: Message, state: str = "", search: str = "") -> QuerySet[User]:
    """The users a message reached, each with ``state_read_at`` and ``state_archived_at``.

    Targeted: the recipient rows. Global: every active user (and anyone who acted on it), with a
    state only where the user read or archived it. ``state`` is ``read``, ``unread`` or
    ``archived``; ``search`` matches 工号/学号 or name.
    """
    users = User.objects.alias(
        state=FilteredRelation("message_states", condition=Q(message_states__message=message))
    ).annotate(
        state_id=F("state__id"),
        state_read_at=F("state__read_at"),
        state_archived_at=F("state__archived_at"),
    )
    if message.is_global:
        users = users.filter(Q(is_active=True) | Q(state_id__isnull=False))
    else:
        users = users.filter(state_id__isnull=False)
    if state == "read":
        users = users.filter(state_read_at__isnull=False)
    elif state == "unread":
        users = users.filter(state_read_at__isnull=True)
    elif state == "archived":
        users = users.filter(state_archived_at__isnull=False)
    if search:
        users = users.filter(
            Q(username__icontains=search)
            | Q(last_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(name_pinyin__icontains=search)
        )
    return users.select_related("department", "school_class").order_by("username")


# --- The statistics report ----------------------------------------------------------------------


class ReportForm(forms.Form):
    date_from = forms.DateField(label="开始日期", required=False)
    date_to = forms.DateField(label="结束日期", required=False)
    granularity = forms.ChoiceField(
        label="周期", choices=(("day", "按日"), ("week", "按周"), ("month", "按月")), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("结束日期不能早于开始日期。")
        return data

    @staticmethod
    def default_params() -> dict:
        today = timezone.localdate()
        return {"date_from": today - timedelta(days=29), "date_to": today, "granularity": "day"}

    def cleaned_params(self) -> dict:
        defaults = self.default_params()
        data = self.cleaned_data
        date_to = data.get("date_to") or defaults["date_to"]
        return {
            "date_from": data.get("date_from") or date_to - timedelta(days=29),
            "date_to": date_to,
            "granularity": data.get("granularity") or "day",
        }


@dataclass
class Row:
    label: str
    messages: int = 0
    audience: int = 0
    read: int = 0
    bar: float = 0.0  # 0..100, for the chart

    @property
    def rate(self) -> float | None:
        return min(1.0, self.read / self.audience) if self.audience else None

    @property
    def read_bar(self) -> float:
        """The read share of this row's bar (bars are scaled to the audience)."""
        return round(self.bar * (self.rate or 0), 1)

    @property
    def rate_percent(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"


@dataclass
class Report:
    date_from: date
    date_to: date
    granularity: str
    total: Row
    periods: list[Row]
    by_type: list[Row]
    by_priority: list[Row]
    by_category: list[Row]
    by_department: list[Row]
    by_class: list[Row]
    messages: list[dict] = field(default_factory=list)

    @property
    def messages_on_page(self) -> list[dict]:
        return self.messages[:MESSAGE_ROWS_ON_PAGE]

    @property
    def period_columns(self) -> dict:
        """Geometry of the inline SVG column chart of messages per period (read rate as a dot)."""
        width, height, gap = 24, 160, 6
        top = max((r.messages for r in self.periods), default=0)
        columns = []
        for i, row in enumerate(self.periods):
            h = round(row.messages * height / top, 1) if top else 0
            rate = row.rate or 0
            columns.append(
                {
                    "row": row,
                    "x": i * (width + gap),
                    "y": round(height - h, 1),
                    "h": h,
                    "cx": i * (width + gap) + width / 2,
                    "cy": round(height - rate * height, 1),
                }
            )
        return {
            "columns": columns,
            "width": max(1, len(columns) * (width + gap)),
            "height": height,
            "bar": width,
        }


def _period_label(moment: datetime, granularity: str) -> str:
    day = timezone.localtime(moment).date()
    if granularity == "month":
        return day.strftime("%Y-%m")
    if granularity == "week":
        monday = day - timedelta(days=day.weekday())
        return f"{monday:%Y-%m-%d} 周"
    return day.isoformat()


def _with_bars(rows: list[Row], key: str = "audience") -> list[Row]:
    top = max((getattr(r, key) for r in rows), default=0)
    for row in rows:
        row.bar = round(getattr(row, key) * 100 / top, 1) if top else 0.0
    return rows


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def report_messages(*, user: User, date_from: date, date_to: date) -> QuerySet[Message]:
    """Messages published in the period (up to now), the user's own unless a superuser."""
    queryset = Message.objects.filter(
        published_at__gte=_day_start(date_from),
        published_at__lt=_day_start(date_to + timedelta(days=1)),
        published_at__lte=timezone.now(),
    )
    if not user.is_superuser:
        queryset = queryset.filter(sender=user)
    return queryset


def _targeted_breakdown(messages: QuerySet[Message], key: str, empty: str) -> list[Row]:
    rows = (
        MessageRecipient.objects.filter(message__in=messages.filter(is_global=False).values("pk"))
        .values(label=F(key))
        .annotate(audience=Count("id"), read=Count("id", filter=Q(read_at__isnull=False)))
        .order_by("-audience")
    )
    return _with_bars([Row(label=r["label"] or empty, audience=r["audience"], read=r["read"]) for r in rows])


def message_report(*, user: User, date_from: date, date_to: date, granularity: str = "day") -> Report:
    """Sent (audience), read and read rate per period, type, priority, department and class.

    Three queries: the messages with their read counts, then recipient rows grouped by the
    recipient's department and by class (targeted messages: their recipients are known).
    """
    messages = report_messages(user=user, date_from=date_from, date_to=date_to)
    reads = (
        MessageRecipient.objects.filter(message=OuterRef("pk"), read_at__isnull=False)
        .order_by()
        .values("message")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = list(
        messages.select_related("sender", "category")
        .annotate(read_total=Coalesce(Subquery(reads, output_field=IntegerField()), 0))
        .order_by("-published_at", "-id")
    )
    total = Row(label="合计")
    periods: dict[str, Row] = {}
    types = {t.value: Row(label=str(t.label)) for t in MessageType}
    priorities = {p.value: Row(label=str(p.label)) for p in MessagePriority}
    by_category: dict = {}
    for m in rows:
        category_key = (m.category.position, m.category_id) if m.category else (1 << 16, 0)
        for bucket in (
            total,
            periods.setdefault(_period_label(m.published_at, granularity), Row(label="")),
            types[m.type],
            priorities[m.priority],
            by_category.setdefault(category_key, Row(label=m.category.name if m.category else "（未分类）")),
        ):
            bucket.messages += 1
            bucket.audience += m.audience_size
            bucket.read += m.read_total
    for label, row in periods.items():
        row.label = label
    by_period = [periods[k] for k in sorted(periods)]
    return Report(
        date_from=date_from,
        date_to=date_to,
        granularity=granularity,
        total=total,
        periods=_with_bars(by_period, "messages"),
        by_type=_with_bars(list(types.values())),
        by_priority=_with_bars(list(priorities.values())),
        by_category=_with_bars([by_category[k] for k in sorted(by_category)]),
        by_department=_targeted_breakdown(messages, "recipient__department__name", "（未分配系所）"),
        by_class=_targeted_breakdown(messages, "recipient__school_class__name", "（无班级）"),
        messages=[
            {
                "id": m.pk,
                "title": m.title,
                "type": m.get_type_display(),
                "priority": m.get_priority_display(),
                "category": m.category.name if m.category else "",
                "is_global": m.is_global,
                "sender": m.sender.full_name or m.sender.username if m.sender else "系统",
                "published_at": timezone.localtime(m.published_at),
                "audience": m.audience_size,
                "read": m.read_total,
                "rate_percent": Row(label="", audience=m.audience_size, read=m.read_total).rate_percent,
            }
            for m in rows
        ],
    )


def report_xlsx_response(report: Report) -> HttpResponse:
    """The report as an Excel workbook: one sheet per breakdown, and every message."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    header = ["分组", "消息数", "发送人数", "已读人数", "阅读率"]

    def sheet(title, rows, first=False):
        ws = workbook.active if first else workbook.create_sheet()
        ws.title = title
        ws.append(header)
        for row in rows:
            ws.append([row.label, row.messages, row.audience, row.read, row.rate])
            ws.cell(ws.max_row, 5).number_format = "0.0%"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 24
        return ws

    sheet("按周期", [*report.periods, report.total], first=True)
    sheet("按类型", report.by_type)
    sheet("按优先级", report.by_priority)
    sheet("按分类", report.by_category)
    sheet("按系所（定向）", report.by_department)
    sheet("按班级（定向）", report.by_class)
    ws = workbook.create_sheet("消息明细")
    ws.append(
        [
            "ID",
            "标题",
            "类型",
            "优先级",
            "全局",
            "发送者",
            "发布时间",
            "发送人数",
            "已读人数",
            "阅读率",
            "分类",
        ]
    )
    for m in report.messages:
        rate = m["read"] / m["audience"] if m["audience"] else None
        ws.append(
            [
                m["id"],
                m["title"],
                m["type"],
                m["priority"],
                "是" if m["is_global"] else "否",
                m["sender"],
                m["published_at"].replace(tzinfo=None),
                m["audience"],
                m["read"],
                min(1.0, rate) if rate is not None else None,
                m["category"],
            ]
        )
        ws.cell(ws.max_row, 10).number_format = "0.0%"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["G"].width = 20

    buffer = io.BytesIO()
    workbook.save(buffer)
    return xlsx_response(
        buffer.getvalue(), f"message-report-{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}.xlsx"
    )
