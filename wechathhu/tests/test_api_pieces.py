"""The shared API pieces: envelope renderer, exception handler, both pagination styles, docs."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.test import APIRequestFactory

from accounts.models import User
from accounts.tests.factories import UserFactory
from wechathhu.api.exceptions import exception_handler, is_transient_database_error
from wechathhu.api.pagination import EnvelopePagination
from wechathhu.api.renderers import envelope
from wechathhu.core.errors import NON_FIELD_ERRORS, ApplicationError, ForbiddenError, NotFoundError

pytestmark = pytest.mark.django_db


def test_v1_success_is_enveloped(make_client, user):
    response = make_client(user, keyword="Bearer").get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "message", "data", "timestamp"}
    assert body["code"] == 200 and body["message"] == "获取当前用户成功"
    seed = {"id": user.pk, "username": user.username, "real_name": user.full_name}
    assert {key: body["data"][key] for key in seed} == seed  # issue 14 adds keys (avatar, last login)


def test_v1_401_is_enveloped_with_the_status_as_code(anon_client):
    response = anon_client.get("/api/v1/me")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 401 and body["data"] is None
    assert body["message"] == "身份认证信息未提供。"
    assert body["error_code"] == "not_authenticated"


def test_mini_program_errors_stay_plain_drf_with_the_code_added(anon_client):
    response = anon_client.get("/current-user/")
    assert response.json() == {"detail": "身份认证信息未提供。", "error_code": "not_authenticated"}
    assert list(response.json()) == ["detail", "error_code"]  # the contract's key stays first


def test_validation_errors_in_the_envelope_name_the_field():
    body = envelope({"title": ["该字段是必填项。"], "error_code": "required"}, status_code=400)
    assert body["code"] == 400 and body["error_code"] == "required"
    assert body["message"] == "title: 该字段是必填项。"
    assert body["data"] == {"title": ["该字段是必填项。"]}
    assert envelope({"non_field_errors": ["不行"]}, status_code=400)["message"] == "不行"


def test_an_envelope_error_without_a_code_gets_the_status_default():
    body = envelope({"detail": "资源不存在"}, status_code=404)
    assert body["error_code"] == "not_found" and body["data"] is None


@pytest.mark.parametrize(
    ("exc", "status", "data"),
    [
        (
            ApplicationError("冲突了", field=NON_FIELD_ERRORS, code="occupied"),
            400,
            {"non_field_errors": ["冲突了"], "error_code": "occupied"},
        ),
        (
            ApplicationError("太长", field="title", code="too_long", extra={"limit": 5}),
            400,
            {"title": ["太长"], "limit": 5, "error_code": "too_long"},
        ),
        (
            ApplicationError("没有邮箱", code="no_email"),
            400,
            {"detail": "没有邮箱", "error_code": "no_email"},
        ),
        (ApplicationError("忙", status=503, code="busy"), 503, {"detail": "忙", "error_code": "busy"}),
        (NotFoundError(), 404, {"detail": "未找到。", "error_code": "not_found"}),
        (ForbiddenError(), 403, {"detail": "您没有执行该操作的权限。", "error_code": "permission_denied"}),
    ],
)
def test_application_errors_keep_the_contract_shape_and_carry_their_code(exc, status, data):
    response = exception_handler(exc, {})
    assert (response.status_code, response.data) == (status, data)


@pytest.mark.parametrize(
    ("exc", "data"),
    [
        (
            DjangoValidationError({"__all__": [DjangoValidationError("重叠", code="overlap")]}),
            {"non_field_errors": ["重叠"], "error_code": "overlap"},
        ),
        (
            DjangoValidationError({"end": DjangoValidationError("太早", code="too_early"), "start": "x"}),
            {"end": ["太早"], "start": ["x"], "error_code": "too_early"},
        ),
        (DjangoValidationError("不行"), {"non_field_errors": ["不行"], "error_code": "invalid"}),
    ],
)
def test_django_validation_errors_become_drf_400s_with_their_code(exc, data):
    response = exception_handler(exc, {})
    assert (response.status_code, response.data) == (400, data)


def test_drf_errors_carry_drf_codes():
    assert exception_handler(Http404(), {}).data == {"detail": "未找到。", "error_code": "not_found"}
    response = exception_handler(DjangoPermissionDenied(), {})
    assert response.status_code == 403 and response.data["error_code"] == "permission_denied"
    nested = drf_exceptions.ValidationError({"ids": {"0": [ErrorDetail("不是整数", code="invalid_int")]}})
    assert exception_handler(nested, {}).data["error_code"] == "invalid_int"
    throttled = exception_handler(drf_exceptions.Throttled(wait=3), {})
    assert throttled.status_code == 429 and throttled.data["error_code"] == "throttled"


def test_a_deadlock_is_a_503_asking_to_retry():
    deadlock = OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")
    assert is_transient_database_error(deadlock)
    response = exception_handler(deadlock, {})
    assert response.status_code == 503
    assert response.data == {"detail": "服务繁忙，请稍后重试。", "error_code": "service_unavailable"}
    assert response["Retry-After"] == "2"
    assert not is_transient_database_error(OperationalError(1146, "Table doesn't exist"))


class _Paginated:
    pagination_results_key = "users"
    list_message = "获取用户列表成功"


def _page(params):
    request = APIRequestFactory().get("/x", params)
    from rest_framework.request import Request

    paginator = EnvelopePagination()
    rows = paginator.paginate_queryset(User.objects.order_by("pk"), Request(request), view=_Paginated())
    return rows, paginator


def test_envelope_pagination_pages_and_caps_page_size():
    UserFactory.create_batch(12)
    rows, paginator = _page({"page": 2, "page_size": 5})
    assert len(rows) == 5
    assert paginator.get_pagination_data() == {
        "current_page": 2,
        "page_size": 5,
        "total_items": 12,
        "total_pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    rows, paginator = _page({"page_size": 1000})
    assert paginator.get_pagination_data()["page_size"] == 100
    response = paginator.get_paginated_response([])
    assert set(response.data) == {"users", "pagination"}
    assert response.envelope_message == "获取用户列表成功"


def test_envelope_pagination_beyond_the_end_is_an_empty_page():
    UserFactory.create_batch(3)
    rows, paginator = _page({"page": 9})
    assert rows == []
    data = paginator.get_pagination_data()
    assert (data["current_page"], data["total_items"], data["has_next"], data["has_prev"]) == (
        9,
        3,
        False,
        True,
    )


@pytest.mark.parametrize("params", [{"page": 0}, {"page": "x"}, {"page_size": -1}])
def test_envelope_pagination_refuses_bad_numbers(params):
    with pytest.raises(serializers.ValidationError):
        _page(params)


def test_schema_and_swagger_ui_are_served_with_local_assets(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/auth/get-token/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower()


def test_browsable_api_renders(api_client):
    response = api_client.get("/current-user/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]


def test_health(client):
    """The old answer's key stays; the parts are added (wechathhu/tests/test_deploy.py tests them)."""
    body = client.get("/health/").json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_ping_answers_the_token_owner_in_the_envelope(make_client, user, anon_client):
    body = make_client(user, keyword="Bearer").get("/api/v1/ping").json()
    assert (body["code"], body["message"], body["data"]) == (200, "pong", {"user_id": user.pk})
    assert anon_client.get("/api/v1/ping").json()["code"] == 401


@pytest.fixture
def query_count_header(settings):
    """The bench's diagnostics middleware switched on."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "wechathhu.middleware.QueryCountHeaderMiddleware"]


def test_query_count_header_counts_the_requests_queries(query_count_header, make_client, user):
    response = make_client(user).get("/departments/")
    assert response["X-Query-Count"] == "2"  # the token lookup and the departments


@pytest.mark.django_db(transaction=True)
def test_query_count_header_leaves_out_a_new_connections_set_up(query_count_header, make_client, user):
    from django.db import connection

    client = make_client(user)
    connection.close()  # the request opens a new one (on MariaDB: session settings first)
    assert client.get("/departments/")["X-Query-Count"] == "2"


def test_options_on_an_action_view_without_serializer_class_is_not_a_500(staff_client):
    response = staff_client.options("/api/v1/messages/read")
    assert response.status_code == 200
    assert response.json()["data"]["name"]  # the envelope around DRF's OPTIONS description


def test_a_number_too_large_for_the_database_is_a_400():
    response = exception_handler(OverflowError("Python int too large to convert to SQLite INTEGER"), {})
    assert response.status_code == 400
    assert response.data == {"detail": "请求中的数值超出范围。", "error_code": "out_of_range"}


def test_options_on_a_selector_backed_detail_view_describes_its_form(superuser):
    from conftest import client_for

    response = client_for(superuser).options("/api/v1/admin/messages/0")
    assert response.status_code == 200
    assert "PUT" in response.json()["data"]["actions"]


def test_envelope_message_names_the_top_level_field_of_a_list_item_error():
    body = envelope({"message_ids": {0: ["请填写合法的整数值。"]}}, status_code=400)
    assert body["message"] == "message_ids: 请填写合法的整数值。"


def test_excel_downloads_keep_their_chinese_name_with_an_ascii_fallback():
    from wechathhu.core.downloads import XLSX_CONTENT_TYPE, xlsx_response

    response = xlsx_response(b"PK", "报名记录-讲座.xlsx")
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == (
        "attachment; filename=\"export.xlsx\"; filename*=UTF-8''%E6%8A%A5%E5%90%8D%E8%AE%B0%E5%BD%95-%E8%AE%B2%E5%BA%A7.xlsx"
    )
