"""The admin's statistics report page: the period form, percentages, bars and the column chart.

The figures come from ``selectors.message_report``; the Excel export is ``exports``.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from wechathhu.api.fields import EARLIEST_YEAR, LATEST_YEAR

from .selectors import MessageReport, ReportRow

MESSAGE_ROWS_ON_PAGE = 200
# The longest span per granularity (about 370 rows of the table at most).
MAX_SPAN_DAYS = {"day": 366, "week": 7 * 370, "month": 31 * 370}


class ReportForm(forms.Form):
    date_from = forms.DateField(label="开始日期", required=False)
    date_to = forms.DateField(label="结束日期", required=False)
    granularity = forms.ChoiceField(
        label="周期", choices=(("day", "按日"), ("week", "按周"), ("month", "按月")), required=False
    )

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            value = data.get(name)
            if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                self.add_error(name, f"日期须在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间。")
        if self.errors:
            return data
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("结束日期不能早于开始日期。")
        params = self.cleaned_params()
        longest = MAX_SPAN_DAYS[params["granularity"]]
        if (params["date_to"] - params["date_from"]).days > longest:
            raise forms.ValidationError(
                f"所选周期下，时间范围最长 {longest} 天，请缩小范围或改按更长的周期统计。"
            )
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


def percent(rate: float | None) -> str:
    """A read rate as the admin shows it: ``42.9%``, or ``—`` without an audience."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _bar_rows(rows: list[ReportRow], key: str = "audience") -> list[dict]:
    """Table rows with their bar (0..100, scaled to the largest ``key``) and its read share."""
    top = max((getattr(r, key) for r in rows), default=0)
    shown = []
    for row in rows:
        bar = round(getattr(row, key) * 100 / top, 1) if top else 0.0
        shown.append(
            {
                "label": row.label,
                "messages": row.messages,
                "audience": row.audience,
                "read": row.read,
                "rate_percent": percent(row.rate),
                "bar": bar,
                "read_bar": round(bar * (row.rate or 0), 1),
            }
        )
    return shown


def _period_chart(rows: list[ReportRow]) -> dict:
    """Geometry of the inline SVG column chart: messages per period, the read rate as a dot."""
    width, height, gap = 24, 160, 6
    top = max((r.messages for r in rows), default=0)
    columns = []
    for i, row in enumerate(rows):
        h = round(row.messages * height / top, 1) if top else 0
        columns.append(
            {
                "label": row.label,
                "messages": row.messages,
                "rate_percent": percent(row.rate),
                "x": i * (width + gap),
                "y": round(height - h, 1),
                "h": h,
                "cx": i * (width + gap) + width / 2,
                "cy": round(height - (row.rate or 0) * height, 1),
            }
        )
    return {"columns": columns, "width": max(1, len(columns) * (width + gap)), "height": height, "bar": width}


def report_context(report: MessageReport) -> dict:
    """What ``admin/messaging/message/report.html`` shows of ``report``."""
    messages = [{**vars(m), "rate_percent": percent(m.rate)} for m in report.messages[:MESSAGE_ROWS_ON_PAGE]]
    return {
        "report": report,
        "total_rate_percent": percent(report.total.rate),
        "chart": _period_chart(report.periods),
        "periods": _bar_rows(report.periods, "messages"),
        "breakdowns": (
            ("按类型", _bar_rows(report.by_type)),
            ("按优先级", _bar_rows(report.by_priority)),
            ("按分类", _bar_rows(report.by_category)),
            ("按系所（定向消息）", _bar_rows(report.by_department)),
            ("按班级（定向消息）", _bar_rows(report.by_class)),
        ),
        "messages_on_page": messages,
        "messages_cut": len(report.messages) > len(messages),
    }
