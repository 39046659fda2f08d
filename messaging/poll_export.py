"""A poll's results and who voted what, as an Excel workbook (the sender's export in the admin).

Every text a person typed (options, names, the question) is written as text: a value Excel would
read as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return first) is prefixed with ``'``."""

import io

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from wechathhu.core.downloads import xlsx_response

from .models import Poll
from .polls import poll_results, poll_vote_rows

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as Excel must store it: text that could start a formula is made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _bold_header(ws) -> None:
    for cell in ws[1]:
        cell.font = Font(bold=True)


def poll_workbook(poll: Poll) -> bytes:
    """Sheet 结果 (each option's votes and share) and, unless the poll is anonymous, sheet 明细 (one
    row per voter: 工号/学号, name, department, class, choices, time)."""
    results = poll_results(poll)
    book = Workbook()
    ws = book.active
    ws.title = "结果"
    ws.append(["问题", safe_cell(poll.question)])
    ws.append(["投票人数", poll.voter_count])
    ws.append(
        [
            "截止时间",
            timezone.localtime(poll.closes_at).strftime("%Y-%m-%d %H:%M") if poll.closes_at else "不截止",
        ]
    )
    ws.append([])
    ws.append(["选项", "票数", "占投票人数"])
    for option in results["options"]:
        ws.append([safe_cell(option["text"]), option["vote_count"], option["percentage"] / 100])
        ws.cell(ws.max_row, 3).number_format = "0.0%"
    ws.column_dimensions["A"].width = 40
    if not poll.anonymous:
        detail = book.create_sheet("明细")
        detail.append(["工号/学号", "姓名", "系所", "班级", "选择", "投票时间"])
        _bold_header(detail)
        for vote in poll_vote_rows(poll=poll).iterator(chunk_size=500):
            voter = vote.voter
            detail.append(
                [
                    safe_cell(voter.username),
                    safe_cell(voter.full_name),
                    safe_cell(voter.department.name if voter.department else ""),
                    safe_cell(voter.school_class.name if voter.school_class else ""),
                    safe_cell("、".join(o.text for o in vote.options.all())),
                    timezone.localtime(vote.updated_at).strftime("%Y-%m-%d %H:%M:%S"),
                ]
            )
        detail.column_dimensions["E"].width = 40
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def poll_xlsx_response(poll: Poll) -> HttpResponse:
    return xlsx_response(poll_workbook(poll), f"投票结果-{poll.message_id}.xlsx")
