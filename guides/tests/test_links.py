import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from guides import services
from guides.models import GuideMailRequest, MailDelivery
from guides.samples import build_pdf
from wechathhu.core.outbox import DeliveryStatus

LINK = re.compile(r"https?://\S+/guides/links/\S+/")


@pytest.fixture
def small_attachment_limit(settings, guide):
    settings.GUIDES_MAIL_ATTACHMENT_MAX_SIZE = guide.file_size - 1
    settings.SITE_URL = "https://portal.example.edu.cn"
    return settings


def mail_link(api_client, guide, capture) -> str:
    with capture(execute=True):
        assert api_client.post(reverse("guides:guide-email", kwargs={"pk": guide.pk})).status_code == 200
    [message] = mail.outbox
    assert message.attachments == []
    return LINK.search(message.body).group(0)


@pytest.mark.django_db
@pytest.mark.usefixtures("small_attachment_limit")
def test_a_file_over_the_attachment_limit_is_mailed_as_a_link_that_needs_no_login(
    api_client, anon_client, guide, pdf_bytes, django_capture_on_commit_callbacks
):
    url = mail_link(api_client, guide, django_capture_on_commit_callbacks)

    assert url.startswith("https://portal.example.edu.cn/guides/links/")
    body = mail.outbox[0].body
    assert "文件较大" in body and "链接有效期至" in body
    record = GuideMailRequest.objects.get()
    assert (record.status, record.delivery) == (DeliveryStatus.SENT, MailDelivery.LINK)

    response = anon_client.get(url.removeprefix("https://portal.example.edu.cn"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    ranged = anon_client.get(url.removeprefix("https://portal.example.edu.cn"), HTTP_RANGE="bytes=0-4")
    assert ranged.status_code == 206
    assert b"".join(ranged.streaming_content) == b"%PDF-"


@pytest.mark.django_db
@pytest.mark.usefixtures("small_attachment_limit")
def test_the_link_expires(settings, api_client, anon_client, guide, django_capture_on_commit_callbacks):
    path = mail_link(api_client, guide, django_capture_on_commit_callbacks).split("example.edu.cn")[1]
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.GUIDES_LINK_MAX_AGE + 5)):
        response = anon_client.get(path)
    assert response.status_code == 410
    assert response.json() == {
        "detail": "下载链接已过期，请在小程序中重新发送。",
        "error_code": "link_expired",
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("small_attachment_limit")
def test_a_forged_link_or_one_for_a_replaced_file_is_404(
    api_client, anon_client, guide, django_capture_on_commit_callbacks
):
    path = mail_link(api_client, guide, django_capture_on_commit_callbacks).split("example.edu.cn")[1]
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert anon_client.get(forged).status_code == 404
    assert anon_client.get("/guides/links/not-a-token/").json() == {
        "detail": "下载链接无效。",
        "error_code": "link_invalid",
    }

    guide.file = ContentFile(build_pdf(["version 2"]), name="请假流程-新版.pdf")
    services.guide_save(guide=guide)
    assert anon_client.get(path).status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("small_attachment_limit")
def test_the_link_stops_working_when_the_guide_is_unpublished(
    api_client, anon_client, guide, django_capture_on_commit_callbacks
):
    path = mail_link(api_client, guide, django_capture_on_commit_callbacks).split("example.edu.cn")[1]
    services.guide_set_published(guide_ids=[guide.pk], published=False)
    assert anon_client.get(path).status_code == 404
