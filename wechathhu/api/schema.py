"""Helpers so the OpenAPI document shows the envelope exactly as it goes over the wire."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .pagination import EnvelopePagination

DETAIL = OpenApiResponse(description='错误：`{"detail": "…", "error_code": "…"}`')
"""The mini-program contract's error answer, for ``@extend_schema(responses={400: DETAIL, …})``."""


def _envelope_fields(data_field):
    return {
        "code": serializers.IntegerField(help_text="成功为 200，出错时为 HTTP 状态码"),
        "message": serializers.CharField(),
        "data": data_field,
        "timestamp": serializers.DateTimeField(),
    }


def enveloped(serializer_class=None, *, name: str, many: bool = False):
    """The envelope around ``serializer_class`` (or ``data: null`` when it is ``None``)."""
    if serializer_class is None:
        data = serializers.JSONField(allow_null=True, default=None, help_text="始终为 null")
    elif isinstance(serializer_class, serializers.BaseSerializer):
        data = serializer_class
    else:
        data = serializer_class(many=many)
    return inline_serializer(name=name, fields=_envelope_fields(data))


PaginationSerializer = inline_serializer(
    name="Pagination",
    fields={
        "current_page": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "total_items": serializers.IntegerField(),
        "total_pages": serializers.IntegerField(),
        "has_next": serializers.BooleanField(),
        "has_prev": serializers.BooleanField(),
    },
)


def enveloped_page(serializer_class, *, name: str, key: str = "messages"):
    """The envelope around seed 001's paginated list shape."""
    page = inline_serializer(
        name=f"{name}Data", fields={key: serializer_class(many=True), "pagination": PaginationSerializer}
    )
    return inline_serializer(name=name, fields=_envelope_fields(page))


ErrorEnvelope = inline_serializer(
    name="ErrorEnvelope",
    fields={
        **_envelope_fields(serializers.JSONField(allow_null=True, help_text="字段错误详情，或 null")),
        "error_code": serializers.CharField(
            help_text="机器可读的错误代码（如 no_recipients、not_found、required），客户端据此分支，勿依赖 message 文本"
        ),
    },
)


def envelope_errors(*codes: int) -> dict:
    """Responses entries for the error statuses an envelope endpoint documents."""
    descriptions = {
        400: "请求参数错误",
        401: "未认证",
        403: "无权限",
        404: "资源不存在",
        429: "请求过于频繁",
    }
    return {code: OpenApiResponse(ErrorEnvelope, description=descriptions.get(code, "")) for code in codes}


__all__ = ["DETAIL", "EnvelopePagination", "ErrorEnvelope", "enveloped", "enveloped_page", "envelope_errors"]
