"""The directory's pagination: a bare array (contract C26), with the paging in headers."""

from django.conf import settings
from rest_framework.pagination import BasePagination
from rest_framework.response import Response


class DirectoryPagination(BasePagination):
    """Without ``page``: the first ``DIRECTORY_CONTACTS_LIMIT`` people, header
    ``X-Contacts-Truncated: 1`` when there are more. With ``page=N`` (validated by the view's
    query serializer): the N-th ``page_size`` people, the total in ``X-Total-Count``."""

    page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get("page")
        self.headers = {}
        if page:
            start = (int(page) - 1) * self.page_size
            self.headers["X-Total-Count"] = str(queryset.count())
            return list(queryset[start : start + self.page_size])
        limit = settings.DIRECTORY_CONTACTS_LIMIT
        entries = list(queryset[: limit + 1])
        if len(entries) > limit:
            self.headers["X-Contacts-Truncated"] = "1"
        return entries[:limit]

    def get_paginated_response(self, data):
        return Response(data, headers=self.headers)
