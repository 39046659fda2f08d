from datetime import datetime

import pytest
from django.urls import reverse

from guides.tests.factories import GuideCategoryFactory, GuideFactory

URL = reverse("guides:guide-list")


@pytest.mark.django_db
def test_list_is_a_bare_array_of_published_guides_newest_first(api_client):
    category = GuideCategoryFactory(name="人事服务")
    older = GuideFactory(name="请假流程", category=category)
    newer = GuideFactory(name="报销须知", description="发票抬头说明")
    GuideFactory(name="草稿", is_published=False)

    response = api_client.get(URL)

    assert response.status_code == 200
    data = response.json()
    assert isinstance(data, list)
    assert [g["id"] for g in data] == [newer.id, older.id]
    first = data[1]
    assert first["name"] == "请假流程"
    assert first["category"] == {"id": category.id, "name": "人事服务"}
    assert datetime.fromisoformat(first["created"]).utcoffset().total_seconds() == 8 * 3600
    assert first["file_name"] == "请假流程.pdf"
    assert first["content_type"] == "application/pdf"
    assert first["size"] == older.file_size > 0
    assert data[0]["description"] == "发票抬头说明"
    assert set(data[0]) == {
        "id", "name", "description", "category", "created", "updated", "file_name", "content_type", "size",
    }  # fmt: skip


@pytest.mark.django_db
def test_search_matches_name_or_description_and_every_word(api_client):
    leave = GuideFactory(name="请假审批流程", description="教职工请假")
    invoice = GuideFactory(name="报销须知", description="发票抬头与税号")
    GuideFactory(name="调停课申请表", description="教学事务")

    def ids(search):
        return [g["id"] for g in api_client.get(URL, {"search": search}).json()]

    assert ids("请假") == [leave.id]
    assert ids("税号") == [invoice.id]  # description only
    assert ids("报销 发票") == [invoice.id]
    assert ids("报销，请假") == []  # every word must match
    assert len(ids("")) == 3


@pytest.mark.django_db
def test_search_does_not_reveal_unpublished_guides(api_client):
    GuideFactory(name="内部草稿", is_published=False)
    assert api_client.get(URL, {"search": "草稿"}).json() == []


@pytest.mark.django_db
def test_list_filters_by_category(api_client):
    wanted = GuideFactory()
    GuideFactory()
    assert [g["id"] for g in api_client.get(URL, {"category": wanted.category_id}).json()] == [wanted.id]


@pytest.mark.django_db
def test_list_needs_a_login(anon_client):
    response = anon_client.get(URL)
    assert response.status_code == 401
    assert response.json() == {"detail": "身份认证信息未提供。", "error_code": "not_authenticated"}


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_rows(api_client, django_assert_num_queries):
    GuideFactory()
    api_client.get(URL)  # warm the token's last-use write
    with django_assert_num_queries(2) as one:
        assert len(api_client.get(URL).json()) == 1
    for _ in range(6):
        GuideFactory(category=GuideCategoryFactory())
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(api_client.get(URL).json()) == 7
