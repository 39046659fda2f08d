import pytest
from django.core.files.base import ContentFile

from guides.samples import build_docx, build_pdf, build_xlsx

from .factories import GuideFactory


@pytest.fixture
def pdf_bytes():
    return build_pdf(["Service guide", "Line two"])


@pytest.fixture
def guide(db, pdf_bytes):
    return GuideFactory(name="教职工请假审批流程", file=ContentFile(pdf_bytes, name="请假流程.pdf"))


@pytest.fixture
def docx_guide(db):
    return GuideFactory(
        name="请假申请表", file=ContentFile(build_docx(["请假申请表"]), name="请假申请表.docx")
    )


@pytest.fixture
def xlsx_guide(db):
    data = build_xlsx("报销", [["日期", "金额"], ["2026-11-02", 12.5]])
    return GuideFactory(name="报销明细表", file=ContentFile(data, name="报销明细表.xlsx"))
