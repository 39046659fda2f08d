"""The JSON renderers: orjson-backed, and byte for byte what DRF's own renderer wrote before."""

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework import renderers as drf_renderers
from rest_framework.settings import api_settings

from accounts.models import UserKind, Visibility
from wechathhu.api.renderers import EncodedJSON, EnvelopeJSONRenderer, JSONRenderer, envelope

SHANGHAI = ZoneInfo("Asia/Shanghai")

PAYLOADS = [
    {"detail": "身份认证信息未提供。"},
    {"non_field_errors": ["无法使用提供的认证信息登录。"]},
    [{"id": 1, "name": "计算机系", "seats_count": "20", "ok": True, "none": None}],
    {"at": datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)},
    {"at": datetime(2026, 11, 24, 13, 5, 31, 965731, tzinfo=SHANGHAI)},
    {"utc": datetime(2026, 11, 24, 2, 0, tzinfo=UTC), "day": date(2026, 2, 28), "t": time(8, 30)},
    {"amount": Decimal("12.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"lazy": gettext_lazy("简体中文"), "kind": UserKind.TEACHER, "visibility": Visibility.NOBODY},
    {"separators": "a\u2028b\u2029c", "emoji": "😀", "quote": '"\\/'},
    {"floats": [0.1, 0.5, 1.25, 100.0, -3.0], "big": 2**70, "neg": -(2**63)},
    {1: "integer keys", "nested": {"deep": [[[{"x": [1, 2, {"y": "z"}]}]]]}},
    [],
    {},
    "plain",
    12,
]


def test_the_project_renderers_are_orjson_renderers():
    """orjson through drf-orjson-renderer for every JSON answer, plain and enveloped."""
    assert issubclass(api_settings.DEFAULT_RENDERER_CLASSES[0], ORJSONRenderer)
    assert issubclass(EnvelopeJSONRenderer, ORJSONRenderer)


@pytest.mark.parametrize("data", PAYLOADS)
def test_compact_output_is_byte_for_byte_drfs(data):
    expected = drf_renderers.JSONRenderer().render(data, "application/json", {})
    assert JSONRenderer().render(data, "application/json", {}) == expected


@pytest.mark.parametrize("data", PAYLOADS)
def test_indented_output_is_drfs(data):
    expected = drf_renderers.JSONRenderer().render(data, "application/json; indent=4", {})
    assert JSONRenderer().render(data, "application/json; indent=4", {}) == expected
    assert JSONRenderer().render(
        data, "application/json", {"indent": 4}
    ) == drf_renderers.JSONRenderer().render(data, "application/json", {"indent": 4})


def test_nothing_is_an_empty_body_and_prebuilt_json_passes_through():
    assert JSONRenderer().render(None) == b""
    assert JSONRenderer().render(EncodedJSON(b'[{"a":1}]'), "application/json", {}) == b'[{"a":1}]'
    indented = JSONRenderer().render(EncodedJSON(b'[{"a":1}]'), "application/json; indent=2", {})
    assert indented == b'[\n  {\n    "a": 1\n  }\n]'


def test_an_unknown_type_fails_as_it_did_with_drf():
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()}, "application/json", {})


def test_the_envelope_is_the_same_bytes_as_before(monkeypatch):
    monkeypatch.setattr(
        "wechathhu.api.renderers.timezone.localtime",
        lambda: datetime(2026, 12, 4, 15, 14, 0, 123456, tzinfo=SHANGHAI),
    )

    class Answer:
        status_code = 200
        envelope_message = "获取当前用户成功"

    data = {"id": 7, "username": "T1001", "real_name": "张三"}
    got = EnvelopeJSONRenderer().render(data, "application/json", {"response": Answer()})
    expected = drf_renderers.JSONRenderer().render(
        envelope(data, status_code=200, message="获取当前用户成功"), "application/json", {}
    )
    assert got == expected
    assert (
        got
        == (
            '{"code":200,"message":"获取当前用户成功","data":{"id":7,"username":"T1001","real_name":"张三"},'
            '"timestamp":"2026-12-04T15:14:00.123456+08:00"}'
        ).encode()
    )


@pytest.mark.django_db
def test_api_answers_keep_their_content_type_and_the_browsable_api_stays(api_client):
    plain = api_client.get("/current-user/")
    assert plain["Content-Type"] == "application/json"
    assert plain.content.startswith(b'{"id":')
    enveloped = api_client.get("/api/v1/ping")
    assert enveloped["Content-Type"] == "application/json"
    assert enveloped.content.startswith(b'{"code":200,"message":"pong","data":{"user_id":')
    page = api_client.get("/api/v1/ping", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and "text/html" in page["Content-Type"]
    assert "&quot;message&quot;: &quot;pong&quot;" in page.content.decode()
