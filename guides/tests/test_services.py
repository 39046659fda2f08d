import io
import threading
import zipfile

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection

from guides import demo, services
from guides.models import Guide, GuideCategory, GuideMailRequest
from guides.samples import build_docx, build_pdf, build_xlsx
from guides.tests.factories import GuideCategoryFactory
from wechathhu.core import outbox
from wechathhu.core.outbox import DeliveryStatus


@pytest.mark.django_db
def test_guide_create_records_name_size_type_and_digest():
    import hashlib

    content = build_pdf(["hello"])
    guide = services.guide_create(
        name="指南", category=GuideCategoryFactory(), file=ContentFile(content, name="办事指南.pdf")
    )
    assert guide.file_name == "办事指南.pdf"
    assert guide.file_size == len(content)
    assert guide.content_type == "application/pdf"
    assert guide.file_sha256 == hashlib.sha256(content).hexdigest()
    assert guide.file.open("rb").read() == content


@pytest.mark.django_db
def test_guide_create_refuses_a_bad_file_and_stores_nothing():
    with pytest.raises(ValidationError) as caught:
        services.guide_create(name="x", category=GuideCategoryFactory(), file=ContentFile(b"", name="a.pdf"))
    assert "文件为空" in str(caught.value)
    assert not Guide.objects.exists()


def test_samples_are_real_documents():
    pdf = build_pdf(["Hello (world)"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref_at:].startswith(b"xref\n0 6\n")
    for line in pdf[xref_at:].split(b"\n")[3:8]:  # every object sits where the table says
        offset = int(line[:10])
        assert pdf[offset:].split(b" ", 1)[1].startswith(b"0 obj")
    with zipfile.ZipFile(io.BytesIO(build_docx(["第一段"]))) as docx:
        assert "第一段" in docx.read("word/document.xml").decode()
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(build_xlsx("表", [["日期", "金额"], ["11-02", 5]]))).active
    assert [c.value for c in sheet[2]] == ["11-02", 5]


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_makes_pdf_docx_and_xlsx():
    demo.seed(None)
    demo.seed(None)
    assert GuideCategory.objects.count() == 4
    assert Guide.objects.count() == 7
    assert set(Guide.objects.values_list("content_type", flat=True)) == {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_request_send_one_mail(guide, user):
    record = GuideMailRequest.objects.create(user=user, guide=guide, guide_name=guide.name, email=user.email)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(outbox.deliver(GuideMailRequest._meta.label, [record.pk]))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(mail.outbox) == 1
    assert sorted(results, key=str) == [{"not_ours": 1}, {"sent": 1}]
    record.refresh_from_db()
    assert (record.status, record.attempts) == (DeliveryStatus.SENT, 1)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_two_requests_for_the_same_guide_sent_at_once_are_both_sent(guide, smtp_server):
    """Nothing but each request's own row is claimed, so neither worker skips the other's request."""
    import asyncio

    from accounts.tests.factories import UserFactory

    records = [
        GuideMailRequest.objects.create(user=u, guide=guide, guide_name=guide.name, email=u.email)
        for u in (UserFactory(), UserFactory())
    ]
    receive = smtp_server.handle_DATA

    async def slow_receive(server, session, envelope):
        await asyncio.sleep(0.5)  # both workers are mid-send at the same time
        return await receive(server, session, envelope)

    smtp_server.handle_DATA = slow_receive
    barrier = threading.Barrier(2)

    def worker(record):
        try:
            barrier.wait()
            outbox.deliver(GuideMailRequest._meta.label, [record.pk])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(r,)) for r in records]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(r.email for r in records)
    assert set(GuideMailRequest.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
