"""Groups (分组) and their members with titles; classes (班级)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.models import CampusGroup, GroupMembership, SchoolClass
from accounts.services.groups import group_member_add, group_member_remove, group_member_update
from wechathhu.api.pagination import MiniProgramPagination
from wechathhu.api.schema import DETAIL

from ..serializers import (
    GroupMemberCreateSerializer,
    GroupMemberSerializer,
    GroupMemberUpdateSerializer,
    GroupSerializer,
    SchoolClassSerializer,
    SearchQuerySerializer,
)


class GroupListView(ListAPIView):
    """The groups (分组: 班干部, 学生会, 协会 …) I belong to, with my title; staff see every group."""

    serializer_class = GroupSerializer
    pagination_class = MiniProgramPagination
    queryset = CampusGroup.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        return selectors.group_list_for_user(user=self.request.user)

    @extend_schema(tags=["groups"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GroupMemberListView(GenericAPIView):
    """A group's members with their titles (members and staff may look); add a member (the
    group's managers and staff; only staff may make someone a manager)."""

    pagination_class = MiniProgramPagination
    queryset = GroupMembership.objects.none()  # for the schema; requests use the selectors

    @extend_schema(tags=["groups"], responses={200: GroupMemberSerializer(many=True), 404: DETAIL})
    def get(self, request, group_id: int):
        group = selectors.group_get_for_user(user=request.user, group_id=group_id)
        page = self.paginate_queryset(selectors.group_member_list(group=group))
        return self.get_paginated_response(GroupMemberSerializer(page, many=True).data)

    @extend_schema(
        tags=["groups"],
        request=GroupMemberCreateSerializer,
        responses={201: GroupMemberSerializer, 400: DETAIL, 403: DETAIL, 404: DETAIL},
    )
    def post(self, request, group_id: int):
        group = selectors.group_get_for_user(user=request.user, group_id=group_id)
        serializer = GroupMemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = group_member_add(group=group, by=request.user, **serializer.validated_data)
        membership = selectors.group_member_list(group=group).get(pk=membership.pk)
        return Response(GroupMemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class GroupMemberDetailView(APIView):
    """Change a member's title or manager flag, or remove them from the group."""

    def _membership(self, request, group_id: int, user_id: int):
        group = selectors.group_get_for_user(user=request.user, group_id=group_id)
        return selectors.group_membership_get(group=group, user_id=user_id)

    @extend_schema(
        tags=["groups"],
        request=GroupMemberUpdateSerializer,
        responses={200: GroupMemberSerializer, 400: DETAIL, 403: DETAIL, 404: DETAIL},
    )
    def patch(self, request, group_id: int, user_id: int):
        membership = self._membership(request, group_id, user_id)
        serializer = GroupMemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group_member_update(membership=membership, by=request.user, **serializer.validated_data)
        membership = selectors.group_member_list(group=membership.group).get(pk=membership.pk)
        return Response(GroupMemberSerializer(membership).data)

    @extend_schema(tags=["groups"], request=None, responses={204: None, 403: DETAIL, 404: DETAIL})
    def delete(self, request, group_id: int, user_id: int):
        membership = self._membership(request, group_id, user_id)
        group_member_remove(membership=membership, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchoolClassListView(GenericAPIView):
    """Classes (班级) with their department, head teacher (班主任), counsellors (辅导员) and number
    of students; ``search`` matches the name, major or department."""

    pagination_class = MiniProgramPagination
    queryset = SchoolClass.objects.none()  # for the schema; requests use the selectors

    @extend_schema(
        tags=["groups"], parameters=[SearchQuerySerializer], responses={200: SchoolClassSerializer(many=True)}
    )
    def get(self, request):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.school_class_list(search=query.validated_data.get("search")))
        return self.get_paginated_response(SchoolClassSerializer(page, many=True).data)
