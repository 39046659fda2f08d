"""The mini-program's calls C23–C25 (original-system.md §2.4), replayed exactly as it sends them."""

from datetime import datetime

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from guides.tests.factories import GuideCategoryFactory, GuideFactory


def wx_client(user) -> APIClient:
    """``R()`` / ``wx.downloadFile``: a bare client with the ``Authorization: Token <key>`` header."""
    from accounts.services.tokens import token_issue

    token, _ = token_issue(user=user, device="wechat")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_contract_paths_are_where_the_client_calls_them():
    assert reverse("guides:guide-list") == "/guides/"
    assert reverse("guides:guide-detail", kwargs={"pk": 7}) == "/guides/7/"
    assert reverse("guides:guide-email", kwargs={"pk": 7}) == "/guides/7/email/"


@pytest.mark.django_db
def test_c23_list_with_search_on_each_keystroke_groups_by_category(user):
    hr, finance = GuideCategoryFactory(name="人事服务"), GuideCategoryFactory(name="财务报销")
    GuideFactory(name="请假流程", category=hr)
    GuideFactory(name="差旅报销", category=finance)
    GuideFactory(name="请假申请表", category=hr)
    client = wx_client(user)

    for search in ("", "请", "请假"):
        response = client.get("/guides/", {"search": search})
        assert response.status_code == 200
        data = response.json()
        assert isinstance(data, list)
        for item in data:
            assert isinstance(item["id"], int)
            assert isinstance(item["name"], str)
            assert set(item["category"]) >= {"id", "name"}
            created = datetime.fromisoformat(item["created"])
            assert created.utcoffset().total_seconds() == 8 * 3600  # shown as YYYY-MM-DD HH:mm
    groups = {}
    for item in client.get("/guides/", {"search": "请假"}).json():
        groups.setdefault(item["category"]["id"], []).append(item["name"])
    assert groups == {hr.id: ["请假申请表", "请假流程"]}
    all_items = client.get("/guides/").json()
    order = list(dict.fromkeys(i["category"]["name"] for i in all_items))
    assert order == ["人事服务", "财务报销"]  # newest first, as the client groups them


@pytest.mark.django_db
def test_c24_download_with_the_manual_token_header_gives_the_file(user, guide, pdf_bytes):
    response = wx_client(user).get(f"/guides/{guide.id}/")
    assert response.status_code == 200  # the client toasts 下载成功 on any 2xx; the file is a 200
    assert b"".join(response.streaming_content) == pdf_bytes
    assert response["Content-Type"] == "application/pdf"  # wx.openDocument needs the real type


@pytest.mark.django_db
def test_c24_a_missing_guide_is_not_2xx(user):
    assert wx_client(user).get("/guides/424242/").status_code == 404  # 下载失败


@pytest.mark.django_db
def test_c25_email_with_no_body_answers_200_empty(user, guide, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = wx_client(user).generic("POST", f"/guides/{guide.id}/email/", "", "application/json")
    assert response.status_code == 200  # toast 发送成功
    assert response.content == b""
    assert mail.outbox[0].to == [user.email]


@pytest.mark.django_db
def test_c25_no_email_gives_the_detail_the_client_toasts(guide):
    client = wx_client(UserFactory(email=""))
    response = client.generic("POST", f"/guides/{guide.id}/email/", "", "application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "您的账户尚未绑定邮箱。"
