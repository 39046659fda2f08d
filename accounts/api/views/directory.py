"""The directory (通讯录): departments, contacts with their privacy rules, user search."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.privacy import ContactVisibility
from wechathhu.api.pagination import MiniProgramPagination

from ..serializers import (
    ContactQuerySerializer,
    ContactSerializer,
    DepartmentSerializer,
    UserSearchQuerySerializer,
)


class DepartmentListView(ListAPIView):
    """All departments (系所), for the profile page's picker."""

    serializer_class = DepartmentSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.department_list()

    @extend_schema(tags=["directory"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


CONTACT_PAGE_SIZE = 50


class ContactListView(APIView):
    """The directory (通讯录): every active user, grouped by ``alpha`` in server order.

    Order: letter (``?`` last), pinyin of the full name, number. Each person chooses who may see
    their post, office phone, e-mail, mobile, QQ and WeChat; what the caller may not see is
    ``null``, and is not searched either. The answer is always a bare array (C26): without
    ``page``, at most ``DIRECTORY_CONTACTS_LIMIT`` people (header ``X-Contacts-Truncated: 1`` when
    cut; narrow with ``search`` or ``my=yes``); with ``page=N``, the N-th 50 people, the total in
    the ``X-Total-Count`` header.
    """

    @extend_schema(
        tags=["directory"],
        parameters=[
            ContactQuerySerializer,
        ],
        responses={200: ContactSerializer(many=True), 400: OpenApiResponse(description="参数错误")},
    )
    def get(self, request):
        query = ContactQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visibility = ContactVisibility(request.user)
        queryset = selectors.contact_list(
            visibility=visibility,
            colleagues_only=query.validated_data["my"] == "yes",
            search=query.validated_data.get("search"),
        )
        rows = selectors.contact_rows(queryset)
        context = {"request": request, "visibility": visibility}
        page = query.validated_data.get("page")
        if page is not None:
            start = (page - 1) * CONTACT_PAGE_SIZE
            entries = rows[start : start + CONTACT_PAGE_SIZE]
            response = Response(ContactSerializer(entries, many=True, context=context).data)
            response["X-Total-Count"] = str(queryset.count())
            return response
        limit = settings.DIRECTORY_CONTACTS_LIMIT
        entries = list(rows[: limit + 1])
        response = Response(ContactSerializer(entries[:limit], many=True, context=context).data)
        if len(entries) > limit:
            response["X-Contacts-Truncated"] = "1"
        return response


class UserSearchView(APIView):
    """Find people by 工号/学号 (exact or prefix), name, or pinyin (full or initials); answers
    directory entries, 20 per page, with the same privacy as ``/contacts/``."""

    pagination_class = MiniProgramPagination

    @extend_schema(
        tags=["directory"],
        parameters=[UserSearchQuerySerializer, OpenApiParameter("page", int, required=False)],
        responses={200: ContactSerializer(many=True), 400: OpenApiResponse(description='`{"q": ["…"]}`')},
    )
    def get(self, request):
        query = UserSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visibility = ContactVisibility(request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.contact_rows(selectors.user_search(query=query.validated_data["q"])), request, view=self
        )
        context = {"request": request, "visibility": visibility}
        return paginator.get_paginated_response(ContactSerializer(page, many=True, context=context).data)
