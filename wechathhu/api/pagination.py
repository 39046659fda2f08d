"""The two pagination styles.

* ``MiniProgramPagination``: DRF's ``{count, next, previous, results}`` with 20 per page, for the
  mini-program lists the original paginated (activities, reservations, repairs).
* ``EnvelopePagination``: seed 001's ``{<items key>: [...], "pagination": {...}}`` under ``/api/v1/``.
"""

import math

from rest_framework import serializers
from rest_framework.pagination import BasePagination, PageNumberPagination


class MiniProgramPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = None


class EnvelopePagination(BasePagination):
    """Page-number pagination in seed 001's shape.

    ``page`` and ``page_size`` must be positive integers (400 otherwise); ``page_size`` over
    ``max_page_size`` is capped; a page beyond the end is an empty page, not an error.
    """

    page_size = 10
    max_page_size = 100
    results_key = "messages"

    def _positive_int(self, request, name, default):
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = 0
        if value < 1:
            raise serializers.ValidationError({name: [f"{name} 必须是正整数。"]})
        return value

    def paginate_queryset(self, queryset, request, view=None):
        self.page_number = self._positive_int(request, "page", 1)
        self.current_page_size = min(
            self._positive_int(request, "page_size", self.page_size), self.max_page_size
        )
        self.results_key = getattr(view, "pagination_results_key", self.results_key)
        self.message = getattr(view, "list_message", "获取列表成功")
        # A list or tuple has a ``count`` method too, but it counts one value.
        sized = isinstance(queryset, list | tuple) or not hasattr(queryset, "count")
        self.total_items = len(queryset) if sized else queryset.count()
        start = (self.page_number - 1) * self.current_page_size
        if start >= self.total_items:
            return []
        return list(queryset[start : start + self.current_page_size])

    def get_pagination_data(self):
        total_pages = math.ceil(self.total_items / self.current_page_size) if self.total_items else 0
        return {
            "current_page": self.page_number,
            "page_size": self.current_page_size,
            "total_items": self.total_items,
            "total_pages": total_pages,
            "has_next": self.page_number < total_pages,
            "has_prev": self.page_number > 1,
        }

    def get_paginated_response(self, data):
        from .renderers import EnvelopeResponse

        return EnvelopeResponse(
            {self.results_key: data, "pagination": self.get_pagination_data()}, message=self.message
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": [self.results_key, "pagination"],
            "properties": {
                self.results_key: schema,
                "pagination": {
                    "type": "object",
                    "required": [
                        "current_page",
                        "page_size",
                        "total_items",
                        "total_pages",
                        "has_next",
                        "has_prev",
                    ],
                    "properties": {
                        "current_page": {"type": "integer", "example": 1},
                        "page_size": {"type": "integer", "example": 10},
                        "total_items": {"type": "integer", "example": 1},
                        "total_pages": {"type": "integer", "example": 1},
                        "has_next": {"type": "boolean"},
                        "has_prev": {"type": "boolean"},
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "页码，默认 1",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"每页数量，默认 {self.page_size}，最大 {self.max_page_size}",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
