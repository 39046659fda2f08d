"""The directory (通讯录): departments, contacts with their privacy rules, user search."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView, ListAPIView

from accounts import selectors
from accounts.models import User
from accounts.privacy import ContactVisibility
from wechathhu.api.pagination import MiniProgramPagination

from ..pagination import DirectoryPagination
from ..serializers import (
    ContactQuerySerializer,
    ContactSerializer,
    DepartmentSerializer,
    UserSearchEntrySerializer,
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


class ContactListView(GenericAPIView):
    """The directory (通讯录): every active user, grouped by ``alpha`` in server order.

    Order: letter (``?`` last), pinyin of the full name, number. Each person chooses who may see
    their post, office phone, e-mail, mobile, QQ and WeChat; what the caller may not see is
    ``null``, and is not searched either. The answer is always a bare array (C26): without
    ``page``, at most ``DIRECTORY_CONTACTS_LIMIT`` people (header ``X-Contacts-Truncated: 1`` when
    cut; narrow with ``search`` or ``my=yes``); with ``page=N``, the N-th 50 people, the total in
    the ``X-Total-Count`` header.
    """

    queryset = User.objects.none()  # for the schema; requests use the selectors

    @property
    def paginator(self):
        """``DirectoryPagination`` (a bare array, the paging in headers), set here rather than as
        ``pagination_class`` so that the schema documents the bare array the client reads."""
        if not hasattr(self, "_paginator"):
            self._paginator = DirectoryPagination()
        return self._paginator

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
        page = self.paginate_queryset(selectors.contact_rows(queryset))
        context = {"request": request, "visibility": visibility}
        return self.get_paginated_response(ContactSerializer(page, many=True, context=context).data)


class UserSearchView(GenericAPIView):
    """Find people by 工号/学号 (exact or prefix), name, or pinyin (full or initials); answers
    directory entries, 20 per page, with the same privacy as ``/contacts/``, each with seed 004's
    flat ``avatar`` and ``nickname`` besides ``user_meta``."""

    pagination_class = MiniProgramPagination
    queryset = User.objects.none()  # for the schema; requests use the selectors

    @extend_schema(
        tags=["directory"],
        parameters=[UserSearchQuerySerializer, OpenApiParameter("page", int, required=False)],
        responses={
            200: UserSearchEntrySerializer(many=True),
            400: OpenApiResponse(description='`{"q": ["…"]}`'),
        },
    )
    def get(self, request):
        query = UserSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visibility = ContactVisibility(request.user)
        page = self.paginate_queryset(
            selectors.contact_rows(selectors.user_search(query=query.validated_data["q"]))
        )
        context = {"request": request, "visibility": visibility}
        return self.get_paginated_response(UserSearchEntrySerializer(page, many=True, context=context).data)
