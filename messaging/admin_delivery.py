"""The admin's delivery report page of a message: figures, a chart, who to call, retry."""

import csv
import io

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from openpyxl import Workbook
from openpyxl.styles import Font

from wechathhu.core import outbox
from wechathhu.core.downloads import content_disposition, xlsx_response
from wechathhu.core.spreadsheets import row_safe

from .delivery_report import message_delivery_report, reason_label, undelivered_rows
from .models import DeliveryKind, MessageDelivery


def _bars(figures) -> list[dict]:
    """One bar per channel: the share of each status, for a CSS chart (no JavaScript)."""
    bars = []
    for channel in figures:
        total = channel.total or 1
        bars.append(
            {
                "label": channel.label,
                "total": channel.total,
                "parts": [
                    (status, label, count, round(count * 100 / total, 1))
                    for status, label, count in (
                        ("sent", "已发送", channel.sent),
                        ("queued", "排队中", channel.queued + channel.sending),
                        ("failed", "失败", channel.failed),
                        ("skipped", "跳过", channel.skipped),
                    )
                ],
                "reasons": [("失败", reason_label(r), n) for r, n in sorted(channel.failed_by_reason.items())]
                + [("跳过", reason_label(r), n) for r, n in sorted(channel.skipped_by_reason.items())]
                + [("暂缓", reason_label(r), n) for r, n in sorted(channel.waiting_by_reason.items())],
            }
        )
    return bars


def delivery_view(model_admin, request, message_id: int):
    """GET: the report (``?export=xlsx|csv``: the undelivered list); POST: retry the failed rows."""
    message = get_object_or_404(model_admin.get_queryset(request), pk=message_id)
    if request.method == "POST":
        count = outbox.retry(
            MessageDelivery.objects.filter(message=message, status=outbox.DeliveryStatus.FAILED)
        )
        model_admin.message_user(request, f"已重新排队 {count} 条发送失败的投递。", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:messaging_message_delivery", args=[message.pk]))
    export = request.GET.get("export")
    if export in ("xlsx", "csv"):
        return _export(message, export)
    report = message_delivery_report(message=message)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"投递报告：{message.title}",
        "message_obj": message,
        "report": report,
        "initial_bars": _bars(report.channels),
        "reminder_bars": _bars(report.reminders),
        "has_reminders": bool(report.reminders),
        "reminder_kind": DeliveryKind.REMINDER,
    }
    return TemplateResponse(request, "admin/messaging/message/delivery.html", context)


def _export(message, kind: str) -> HttpResponse:
    rows = [row_safe(row) for row in undelivered_rows(message=message)]
    name = f"未送达名单-{message.pk}"
    if kind == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 CSV with a BOM correctly
        csv.writer(buffer).writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition(f"{name}.csv", fallback_stem="undelivered")
        return response
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "未送达"
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return xlsx_response(buffer.getvalue(), f"{name}.xlsx")
