"""Demo data of attachments, search and templates (issue 20 items 4, 6, 8): the search index of the
demo messages (written in bulk, so indexed here), a global meeting notice with a PDF attachment, and
a template with placeholders. Running it again adds nothing."""

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.demo import ADMIN_USERNAME
from accounts.models import User

from . import attachments, search, services, templates_service
from .models import MessagePriority, MessageTemplate, MessageType

NOTICE_TITLE = "全校教职工大会通知（附件示例）"
TEMPLATE_NAME = "班会通知（演示模板）"


def demo_pdf(text: str = "Demo") -> bytes:
    """A small valid one-page PDF (no external tools)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def seed(out) -> list[str]:
    if MessageTemplate.objects.filter(name=TEMPLATE_NAME).exists():
        return []
    staff = User.objects.filter(username=ADMIN_USERNAME).first()
    if staff is None:
        return []
    indexed = search.rebuild()
    notice = services.message_send(
        sender=staff,
        title=NOTICE_TITLE,
        content="定于本周五下午 2 点在大礼堂召开全校教职工大会，会议议程见附件。",
        type=MessageType.ANNOUNCEMENT,
        priority=MessagePriority.HIGH,
        is_global=True,
    )
    attachments.attachments_add(
        message=notice,
        uploads=[SimpleUploadedFile("会议议程.pdf", demo_pdf("Agenda"), content_type="application/pdf")],
        user=staff,
    )
    templates_service.template_create(
        owner=staff,
        name=TEMPLATE_NAME,
        title="{姓名}同学：本周班会通知",
        content="{班级}的{姓名}同学，本周四晚 7 点召开班会，请准时参加。",
        type=MessageType.REMINDER,
        is_shared=True,
    )
    return [
        f"  消息检索：已为 {indexed + 1} 条消息建立索引；附件示例：「{NOTICE_TITLE}」；"
        f"消息模板：「{TEMPLATE_NAME}」",
    ]
