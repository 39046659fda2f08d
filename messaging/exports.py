"""The message statistics report as an Excel workbook (openpyxl)."""

import io

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from wechathhu.core.downloads import xlsx_response
from wechathhu.core.spreadsheets import row_safe

from .selectors import MessageReport

BREAKDOWN_HEADER = ["分组", "消息数", "发送人数", "已读人数", "阅读率"]
MESSAGE_HEADER = [
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


def message_report_xlsx_response(report: MessageReport) -> HttpResponse:
    """One sheet per breakdown, and every message; read rates as Excel percentages."""
    workbook = Workbook()

    def sheet(title, rows, first=False):
        ws = workbook.active if first else workbook.create_sheet()
        ws.title = title
        ws.append(BREAKDOWN_HEADER)
        for row in rows:
            ws.append(row_safe([row.label, row.messages, row.audience, row.read, row.rate]))
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
    ws.append(MESSAGE_HEADER)
    for m in report.messages:
        ws.append(
            row_safe(
                [
                    m.id,
                    m.title,
                    m.type,
                    m.priority,
                    "是" if m.is_global else "否",
                    m.sender,
                    m.published_at.replace(tzinfo=None),
                    m.audience,
                    m.read,
                    m.rate,
                    m.category,
                ]
            )
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
