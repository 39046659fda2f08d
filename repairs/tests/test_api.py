"""The mini-program's calls C20–C22 replayed exactly, plus the detail, photos and follow-ups.

Paths are written out literally here on purpose: they are the contract the existing client calls.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import UserFactory
from repairs import services
from repairs.models import RepairPhoto, RepairRequest, RepairStatus

from .conftest import make_image
from .factories import FaultCategoryFactory, RepairRequestFactory

pytestmark = pytest.mark.django_db
S = RepairStatus


# --- C20 GET /repairs/categories/ ---------------------------------------------------------------


def test_c20_categories_are_a_bare_array_of_id_and_name_in_admin_order(api_client):
    second = FaultCategoryFactory(name="电力故障", position=2)
    first = FaultCategoryFactory(name="网络故障", position=1)
    FaultCategoryFactory(name="已停用", position=0, is_active=False)
    response = api_client.get("/repairs/categories/")
    assert response.status_code == 200
    assert response.json() == [{"id": first.pk, "name": "网络故障"}, {"id": second.pk, "name": "电力故障"}]


def test_c20_needs_a_login(anon_client):
    response = anon_client.get("/repairs/categories/")
    assert response.status_code == 401
    assert response.json() == {"detail": "身份认证信息未提供。", "error_code": "not_authenticated"}


def test_c20_costs_the_same_queries_for_1_and_many_categories(api_client, django_assert_num_queries):
    FaultCategoryFactory()
    with django_assert_num_queries(2):  # token lookup + the list
        api_client.get("/repairs/categories/")
    FaultCategoryFactory.create_batch(10)
    with django_assert_num_queries(2):
        assert len(api_client.get("/repairs/categories/").json()) == 11


# --- C21 POST /repairs/ -------------------------------------------------------------------------


def test_c21_the_clients_exact_body_is_accepted_with_201(api_client, user):
    category = FaultCategoryFactory(name="网络")
    response = api_client.post(
        "/repairs/", {"description": "断网", "location": "教学楼201", "category": category.pk}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("user", "location", "category", "description")} == {
        "user": user.pk,
        "location": "教学楼201",
        "category": category.pk,
        "description": "断网",
    }
    assert (body["status"], body["status_display"], body["is_closed"]) == (0, "未受理", False)
    assert body["created"].endswith("+08:00")
    repair = RepairRequest.objects.get(pk=body["id"])
    assert (repair.user, repair.status, repair.category) == (user, S.PENDING, category)


def test_c21_category_is_optional_and_nullable(api_client):
    for payload in (
        {"description": "漏水", "location": "图书馆"},
        {"description": "漏水", "location": "图书馆", "category": None},
    ):
        response = api_client.post("/repairs/", payload, format="json")
        assert response.status_code == 201
        assert response.json()["category"] is None


def test_c21_missing_fields_get_field_errors(api_client):
    response = api_client.post("/repairs/", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "location": ["该字段是必填项。"],
        "description": ["该字段是必填项。"],
        "error_code": "required",
    }


def test_c21_an_unknown_category_is_refused_clearly(api_client):
    response = api_client.post(
        "/repairs/", {"description": "x", "location": "y", "category": 999}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"category": ["无效主键 “999” － 对象不存在。"], "error_code": "does_not_exist"}


def test_c21_a_retired_category_is_refused_clearly(api_client):
    category = FaultCategoryFactory(is_active=False)
    response = api_client.post(
        "/repairs/", {"description": "x", "location": "y", "category": category.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "category": ["该故障分类已停用，请重新选择。"],
        "error_code": "category_inactive",
    }
    assert not RepairRequest.objects.exists()


def test_c21_too_long_input_is_a_400_not_a_500(api_client):
    response = api_client.post("/repairs/", {"description": "x", "location": "楼" * 256}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["location", "error_code"]


# --- Photos -------------------------------------------------------------------------------------


def test_photos_are_uploaded_with_multipart_and_served_to_the_reporter_only(api_client, user, make_client):
    response = api_client.post(
        "/repairs/",
        {
            "description": "灯坏了",
            "location": "教学楼3楼",
            "photos": [make_image("a.png"), make_image("b.jpg", "JPEG")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    photos = RepairPhoto.objects.filter(request_id=response.json()["id"]).order_by("id")
    assert [p.content_type for p in photos] == ["image/png", "image/jpeg"]
    # Stored under a random name: the uploader's file name never reaches the storage.
    assert all(re.fullmatch(r"repairs/photos/[0-9a-f]{32}\.(png|jpg)", p.image.name) for p in photos)

    detail = api_client.get(f"/repairs/{response.json()['id']}/").json()
    url = detail["photos"][0]["url"]
    served = api_client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    assert make_client(UserFactory()).get(url).status_code == 404
    assert make_client(UserFactory(is_staff=True)).get(url).status_code == 404  # staff without the permission
    desk = UserFactory(is_staff=True)
    desk.user_permissions.add(Permission.objects.get(codename="view_repairrequest"))
    assert make_client(desk).get(url).status_code == 200


def test_a_file_that_is_not_an_image_is_refused_clearly(api_client):
    fake = SimpleUploadedFile("photo.png", b"%PDF-1.4 not an image", content_type="image/png")
    response = api_client.post(
        "/repairs/", {"description": "x", "location": "y", "photos": [fake]}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {
        "photos": ["文件“photo.png”不是有效的图片，请上传 JPEG、PNG、GIF 或 WebP 格式的照片。"],
        "error_code": "photo_not_image",
    }
    assert not RepairRequest.objects.exists()


def test_a_photo_too_large_is_refused_clearly(api_client, settings):
    settings.REPAIRS_PHOTO_MAX_BYTES = 1024
    big = make_image("big.png", size=(400, 400))
    assert big.size > 1024
    response = api_client.post(
        "/repairs/", {"description": "x", "location": "y", "photos": [big]}, format="multipart"
    )
    assert response.status_code == 400
    [message] = response.json()["photos"]
    assert message.startswith("照片“big.png”过大")
    assert message.replace("\xa0", " ").endswith("每张不能超过 1.0 KB。")
    assert not RepairRequest.objects.exists()


def test_too_many_photos_are_refused(api_client, settings):
    settings.REPAIRS_PHOTO_MAX_COUNT = 1
    response = api_client.post(
        "/repairs/",
        {"description": "x", "location": "y", "photos": [make_image(), make_image()]},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"photos": ["最多上传 1 张照片。"], "error_code": "photo_count"}


# --- C22 GET /repairs/ --------------------------------------------------------------------------


def test_c22_lists_only_my_requests_paginated_with_what_the_client_reads(api_client, user):
    category = FaultCategoryFactory(name="网络")
    mine = [
        RepairRequestFactory(user=user, category=category, status=status, location=f"楼{i}")
        for i, status in enumerate([S.PENDING, S.PROCESSING, S.SOLVED, S.CLOSED])
    ]
    uncategorised = RepairRequestFactory(user=user, category=None)
    RepairRequestFactory()  # someone else's
    response = api_client.get("/repairs/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5 and body["next"] is None
    results = {r["id"]: r for r in body["results"]}
    assert [r["id"] for r in body["results"]] == [uncategorised.pk, *[r.pk for r in reversed(mine)]]
    for repair, (code, label) in zip(
        mine, [(0, "未受理"), (1, "处理中"), (2, "已解决"), (2, "已关闭")], strict=True
    ):
        item = results[repair.pk]
        assert item["category"] == {"id": category.pk, "name": "网络"}
        assert (item["location"], item["description"]) == (repair.location, repair.description)
        assert (item["status"], item["status_display"]) == (code, label)
    assert results[mine[3].pk]["is_closed"] is True
    assert results[uncategorised.pk]["category"] is None


def test_c22_is_paginated_by_20(api_client, user):
    RepairRequestFactory.create_batch(21, user=user)
    first = api_client.get("/repairs/").json()
    assert len(first["results"]) == 20 and first["next"].endswith("?page=2")
    assert len(api_client.get("/repairs/?page=2").json()["results"]) == 1


def test_c22_costs_the_same_queries_for_1_and_many_requests(api_client, user, django_assert_num_queries):
    RepairRequestFactory(user=user)
    with django_assert_num_queries(3):  # token, count, page
        api_client.get("/repairs/")
    for _ in range(8):
        RepairRequestFactory(user=user, category=FaultCategoryFactory())
    RepairRequestFactory(user=user, category=None)
    with django_assert_num_queries(3):
        assert api_client.get("/repairs/").json()["count"] == 10


# --- GET /repairs/<id>/ and the reporter's follow-ups ------------------------------------------------


def test_detail_shows_public_history_but_not_internal_notes(api_client, user, staff_user):
    repair = services.repair_request_create(user=user, location="教学楼201", description="断网")
    services.repair_request_assign(repair=repair, assignee=staff_user, by=staff_user)
    services.repair_request_change_status(
        repair=repair, to_status=S.PROCESSING, by=staff_user, comment="已派人"
    )
    services.repair_request_comment(repair=repair, by=staff_user, content="交换机坏了", internal=True)
    services.repair_request_comment(repair=repair, by=staff_user, content="下午修好", internal=False)

    response = api_client.get(f"/repairs/{repair.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["status_display"]) == (1, "处理中")
    assert body["assignee_name"] == staff_user.full_name
    history = [(h["kind"], h["to_status"], h["content"]) for h in body["history"]]
    assert history == [
        ("created", "pending", ""),
        ("status", "processing", "已派人"),
        ("reply", "", "下午修好"),
    ]
    assert "交换机坏了" not in response.content.decode()
    assert body["actions"] == []


def test_detail_of_someone_elses_request_is_404(api_client):
    repair = RepairRequestFactory()
    response = api_client.get(f"/repairs/{repair.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "error_code": "not_found"}


def test_detail_costs_the_same_queries_with_more_history(
    api_client, user, staff_user, django_assert_num_queries
):
    repair = services.repair_request_create(user=user, location="x", description="y")
    url = f"/repairs/{repair.pk}/"
    with django_assert_num_queries(4):  # token, request, photos, history
        api_client.get(url)
    for i in range(5):
        services.repair_request_comment(
            repair=repair, by=UserFactory(is_staff=True), content=f"回复{i}", internal=False
        )
    with django_assert_num_queries(4):
        assert len(api_client.get(url).json()["history"]) == 6


def test_the_reporter_confirms_and_rates_a_solved_repair(api_client, user, staff_user):
    repair = RepairRequestFactory(user=user, status=S.PROCESSING)
    services.repair_request_change_status(repair=repair, to_status=S.SOLVED, by=staff_user)
    assert api_client.get(f"/repairs/{repair.pk}/").json()["actions"] == ["confirm", "reopen", "rate"]
    response = api_client.post(
        f"/repairs/{repair.pk}/confirm/", {"rating": 5, "comment": "很快"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["status_display"], body["is_closed"], body["rating"]) == (
        2,
        "已关闭",
        True,
        5,
    )
    assert body["actions"] == []


def test_the_reporter_reopens_a_solved_repair_with_a_reason(api_client, user):
    repair = RepairRequestFactory(user=user, status=S.SOLVED)
    assert api_client.post(f"/repairs/{repair.pk}/reopen/", {}, format="json").json() == {
        "reason": ["该字段是必填项。"],
        "error_code": "required",
    }
    response = api_client.post(f"/repairs/{repair.pk}/reopen/", {"reason": "还是断网"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["history"][-1]["content"]) == (1, "还是断网")


def test_the_reporter_may_cancel_only_a_pending_request(api_client, user):
    pending = RepairRequestFactory(user=user, status=S.PENDING)
    assert api_client.post(f"/repairs/{pending.pk}/cancel/").json()["status_display"] == "已关闭"
    processing = RepairRequestFactory(user=user, status=S.PROCESSING)
    response = api_client.post(f"/repairs/{processing.pk}/cancel/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "报修不能从“处理中”变为“已关闭”。",
        "error_code": "transition_not_allowed",
    }


def test_rating_an_unsolved_repair_is_a_clear_400(api_client, user):
    repair = RepairRequestFactory(user=user, status=S.PENDING)
    response = api_client.post(f"/repairs/{repair.pk}/rate/", {"rating": 5}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "报修解决后才能评价。", "error_code": "not_solved"}
    bad = api_client.post(f"/repairs/{repair.pk}/rate/", {"rating": 9}, format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["rating", "error_code"]


def test_follow_ups_on_someone_elses_request_are_404(api_client):
    repair = RepairRequestFactory(status=S.SOLVED)
    for action in ("confirm", "reopen", "cancel", "rate"):
        assert (
            api_client.post(
                f"/repairs/{repair.pk}/{action}/", {"reason": "x", "rating": 1}, format="json"
            ).status_code
            == 404
        )


def test_new_requests_are_throttled_per_user_with_a_clear_message(api_client, settings, make_client):
    settings.REPAIRS_CREATE_RATE = "2/hour"
    payload = {"description": "断网", "location": "教学楼201"}
    assert [api_client.post("/repairs/", payload, format="json").status_code for _ in range(2)] == [201, 201]
    response = api_client.post("/repairs/", payload, format="json")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("报修提交过于频繁，请稍后再试。")
    assert int(response["Retry-After"]) > 0
    assert api_client.get("/repairs/").status_code == 200  # reading is not throttled
    assert make_client(UserFactory()).post("/repairs/", payload, format="json").status_code == 201
