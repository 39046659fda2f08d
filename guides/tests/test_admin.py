from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guides.models import Guide, GuideMailRequest
from guides.samples import build_docx, build_pdf, build_xlsx
from guides.tests.factories import GuideCategoryFactory, GuideFactory
from wechathhu.core.outbox import DeliveryStatus


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def add(admin_client, upload, **extra):
    category = GuideCategoryFactory(name="人事服务")
    data = {
        "name": "请假流程",
        "category": category.pk,
        "description": "说明",
        "is_published": "on",
        "file": upload,
    }
    return admin_client.post(reverse("admin:guides_guide_add"), {**data, **extra})


def error_text(response) -> str:
    return " ".join(str(e) for e in response.context["adminform"].form.errors.get("file", []))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("请假流程.pdf", build_pdf(["x"]), "application/pdf"),
        (
            "申请表.docx",
            build_docx(["申请"]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "明细.xlsx",
            build_xlsx("s", [["a"]]),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("截图.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "image/png"),
    ],
)
def test_upload_in_the_admin_stores_the_file_and_records_what_it_is(admin_client, name, content, mime):
    response = add(admin_client, SimpleUploadedFile(name, content, content_type="text/plain"))

    assert response.status_code == 302, error_text(response)
    guide = Guide.objects.get()
    assert (guide.file_name, guide.content_type, guide.file_size) == (name, mime, len(content))
    assert guide.file.name.startswith("guides/") and name not in guide.file.name
    with default_storage.open(guide.file.name) as stored:
        assert stored.read() == content


@pytest.mark.django_db
def test_upload_of_a_type_not_allowed_is_refused_clearly(admin_client):
    response = add(
        admin_client, SimpleUploadedFile("脚本.exe", b"MZ\x90\x00", content_type="application/pdf")
    )
    assert response.status_code == 200
    assert "不支持的文件类型“exe”" in error_text(response)
    assert not Guide.objects.exists()


@pytest.mark.django_db
def test_types_come_from_the_setting(settings, admin_client):
    settings.GUIDES_ALLOWED_EXTENSIONS = ["pdf"]
    response = add(admin_client, SimpleUploadedFile("申请表.docx", build_docx(["x"])))
    assert "允许的类型：pdf" in error_text(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("伪装.pdf", b"MZ\x90\x00 not a pdf at all"),
        ("伪装.docx", build_pdf(["x"])),
        ("伪装.xlsx", build_docx(["a zip, but a Word document"])),
        ("伪装.png", b"GIF89a....."),
    ],
)
def test_upload_whose_content_does_not_match_its_name_is_refused(admin_client, name, content):
    response = add(admin_client, SimpleUploadedFile(name, content))
    assert "文件内容与扩展名" in error_text(response)
    assert not Guide.objects.exists()


@pytest.mark.django_db
def test_upload_over_the_size_limit_is_refused_clearly(settings, admin_client):
    settings.GUIDES_MAX_UPLOAD_SIZE = 1024
    response = add(admin_client, SimpleUploadedFile("大文件.pdf", build_pdf(["x"]) + b" " * 2048))
    assert "文件过大" in error_text(response)
    assert "1.0\xa0KB" in error_text(response)
    assert not Guide.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]  # nothing stored


@pytest.mark.django_db
def test_replacing_the_file_updates_its_facts_and_deletes_the_old_one(
    admin_client, django_capture_on_commit_callbacks
):
    guide = GuideFactory()
    old_name = guide.file.name
    new = build_docx(["新版"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:guides_guide_change", args=[guide.pk]),
            {
                "name": guide.name,
                "category": guide.category_id,
                "description": "",
                "is_published": "on",
                "file": SimpleUploadedFile("新版申请表.docx", new),
            },
        )
    assert response.status_code == 302, error_text(response)
    guide.refresh_from_db()
    assert guide.file_name == "新版申请表.docx"
    assert guide.file_size == len(new)
    assert not default_storage.exists(old_name)


@pytest.mark.django_db
def test_editing_only_the_name_keeps_the_file(admin_client):
    guide = GuideFactory()
    response = admin_client.post(
        reverse("admin:guides_guide_change", args=[guide.pk]),
        {"name": "新名称", "category": guide.category_id, "description": "", "is_published": "on"},
    )
    assert response.status_code == 302
    guide.refresh_from_db()
    assert guide.name == "新名称"
    assert default_storage.exists(guide.file.name)


@pytest.mark.django_db
def test_changelist_has_a_download_link_that_works_for_staff(admin_client, django_assert_max_num_queries):
    guides = [GuideFactory(category=GuideCategoryFactory()) for _ in range(3)]
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:guides_guide_changelist"))
    assert response.status_code == 200
    link = reverse("guides:guide-detail", kwargs={"pk": guides[0].pk})
    assert f'<a href="{link}">下载</a>' in response.content.decode()
    download = admin_client.get(link)  # session login, as the admin button uses it
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


@pytest.mark.django_db
def test_admin_search_and_category_page(admin_client):
    guide = GuideFactory(name="报销须知")
    response = admin_client.get(reverse("admin:guides_guide_changelist"), {"q": "报销"})
    assert response.status_code == 200
    assert "报销须知" in response.content.decode()
    page = admin_client.get(reverse("admin:guides_guidecategory_change", args=[guide.category_id]))
    assert page.status_code == 200
    assert "报销须知" in page.content.decode()


@pytest.mark.django_db
def test_deleting_a_category_with_guides_is_refused(admin_client):
    guide = GuideFactory()
    response = admin_client.post(
        reverse("admin:guides_guidecategory_delete", args=[guide.category_id]), {"post": "yes"}
    )
    assert response.status_code == 200  # the "cannot delete, protected objects" page
    assert Guide.objects.filter(pk=guide.pk).exists()


@pytest.mark.django_db
def test_unpublish_action(admin_client):
    guide = GuideFactory()
    admin_client.post(
        reverse("admin:guides_guide_changelist"), {"action": "unpublish", "_selected_action": [guide.pk]}
    )
    guide.refresh_from_db()
    assert guide.is_published is False


@pytest.mark.django_db
def test_mail_requests_are_listed_and_failed_ones_can_be_resent(
    admin_client, user, guide, django_capture_on_commit_callbacks
):
    failed = GuideMailRequest.objects.create(
        user=user,
        guide=guide,
        guide_name=guide.name,
        email=user.email,
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        attempts=6,
    )
    page = admin_client.get(reverse("admin:guides_guidemailrequest_changelist"))
    assert page.status_code == 200
    assert user.email in page.content.decode()
    assert "发送失败" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:guides_guidemailrequest_changelist"),
            {"action": "outbox_retry", "_selected_action": [failed.pk]},
        )
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1
    assert admin_client.get(reverse("admin:guides_guidemailrequest_add")).status_code == 403


@pytest.mark.django_db
def test_add_page_names_the_allowed_types_and_links_no_media_url(settings, admin_client):
    settings.GUIDES_ALLOWED_EXTENSIONS = ["pdf", "docx"]
    page = admin_client.get(reverse("admin:guides_guide_add")).content.decode()
    assert "允许的类型：pdf、docx" in page
    guide = GuideFactory()
    page = admin_client.get(reverse("admin:guides_guide_change", args=[guide.pk])).content.decode()
    assert settings.MEDIA_URL not in page
    assert reverse("guides:guide-detail", kwargs={"pk": guide.pk}) in page
