"""Demo data for guides: categories with real small files (PDF, DOCX, XLSX) made on the fly."""

from django.core.files.base import ContentFile

from .models import Guide, GuideCategory
from .samples import build_docx, build_pdf, build_xlsx
from .services import guide_category_create, guide_create


def _files():
    return {
        "人事服务": [
            (
                "教职工请假审批流程",
                "请假类型、审批层级与所需材料。",
                "教职工请假审批流程.pdf",
                lambda: build_pdf(["Leave Application Procedure", "1. Fill in the form", "2. Approval"]),
            ),
            (
                "教职工请假申请表",
                "请假前填写，交学院办公室。",
                "请假申请表.docx",
                lambda: build_docx(["河海大学计信院教职工请假申请表", "姓名：", "请假事由：", "起止时间："]),
            ),
        ],
        "财务报销": [
            (
                "差旅费报销明细表",
                "出差后按此表填写交通、住宿费用，附发票。",
                "差旅费报销明细表.xlsx",
                lambda: build_xlsx(
                    "报销明细", [["日期", "事项", "金额（元）"], ["2026-11-02", "高铁 南京-上海", 139.5]]
                ),
            ),
            (
                "报销须知",
                "发票抬头、税号与报销时限说明。",
                "报销须知.pdf",
                lambda: build_pdf(["Reimbursement Notes", "Invoices must name the university."]),
            ),
        ],
        "教学事务": [
            (
                "调停课申请表",
                "因公调课、停课须提前三个工作日申请。",
                "调停课申请表.docx",
                lambda: build_docx(["调停课申请表", "课程名称：", "原上课时间：", "调整后时间："]),
            ),
            (
                "监考安排模板",
                "期末监考人员安排表模板。",
                "监考安排模板.xlsx",
                lambda: build_xlsx("监考安排", [["考试科目", "时间", "地点", "监考教师"]]),
            ),
        ],
        "科研管理": [
            (
                "科研项目结题材料清单",
                "结题验收需提交的材料。",
                "科研项目结题材料清单.pdf",
                lambda: build_pdf(["Project Closing Checklist", "- Final report", "- Financial statement"]),
            ),
        ],
    }


def seed(out) -> list[str]:
    created = 0
    for category_name, guides in _files().items():
        category = GuideCategory.objects.filter(name=category_name).first() or guide_category_create(
            name=category_name
        )
        for name, description, file_name, build in guides:
            if Guide.objects.filter(category=category, name=name).exists():
                continue
            guide_create(
                name=name,
                category=category,
                description=description,
                file=ContentFile(build(), name=file_name),
            )
            created += 1
    return [f"  服务指南：{Guide.objects.count()} 个文件（本次新建 {created} 个）"] if created else []
