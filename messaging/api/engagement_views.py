"""The message center's additions under ``/api/v1/`` (issue 20), in seed 001's envelope.

Views validate input, call one service or selector, and serialise the result.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

from messaging import audiences, categories, preferences
from wechathhu.api.pagination import EnvelopePagination
from wechathhu.api.renderers import EnvelopeResponse
from wechathhu.api.schema import PaginationSerializer, envelope_errors, enveloped, enveloped_page

from .engagement_serializers import (
    AudienceOptionSerializer,
    AudienceQuerySerializer,
    MessageCategorySerializer,
    PreferencesInputSerializer,
    PreferencesSerializer,
)
from .permissions import CanSendMessages
from .views import ADMIN_TAGS, TAGS, EnvelopeAPIView

PreferencesEnvelope = enveloped(PreferencesSerializer, name="PreferencesEnvelope")


class CategoryListView(EnvelopeAPIView):
    """消息分类（教务、科研、学工……），按管理员设定的顺序。发送消息时用 `category_id` 指定分类，
    消息列表可按 `category_id` 筛选。"""

    serializer_class = MessageCategorySerializer
    pagination_results_key = "categories"
    list_message = "获取消息分类成功"

    @extend_schema(
        tags=TAGS,
        operation_id="categories_list",
        responses={
            200: enveloped_page(MessageCategorySerializer, name="MessageCategoryPage", key="categories"),
            **envelope_errors(400, 401),
        },
    )
    def get(self, request):
        page = self.paginate_queryset(categories.category_list())
        return self.get_paginated_response(MessageCategorySerializer(page, many=True).data)


class PreferencesView(EnvelopeAPIView):
    """我的推送偏好：按分类关注（不关注的分类不推送到微信，站内消息照常显示）、免打扰时段（北京时间，
    可跨越午夜）、首选推送渠道和每日摘要。紧急消息总会推送。新用户默认关注全部分类、没有免打扰时段。

    PUT 只修改提交的字段；`muted_category_ids` 整体替换不关注的分类。"""

    serializer_class = PreferencesInputSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="messages_preferences_retrieve",
        responses={200: PreferencesEnvelope, **envelope_errors(401)},
    )
    def get(self, request):
        data = preferences.preferences_overview(user=request.user)
        return EnvelopeResponse(PreferencesSerializer(data).data, message="获取推送偏好成功")

    @extend_schema(
        tags=TAGS,
        operation_id="messages_preferences_update",
        request=PreferencesInputSerializer,
        responses={200: PreferencesEnvelope, **envelope_errors(400, 401)},
    )
    def put(self, request):
        serializer = PreferencesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preferences.delivery_preferences_update(user=request.user, data=serializer.validated_data)
        data = preferences.preferences_overview(user=request.user)
        return EnvelopeResponse(PreferencesSerializer(data).data, message="更新推送偏好成功")


AudiencesData = inline_serializer(
    name="AudiencesData",
    fields={
        "scope": serializers.ChoiceField(
            choices=[("all", "任何用户"), ("own", "自己负责的班级和分组")],
            help_text="all：职工或“消息发送人”，可发给任何人；own：辅导员、班主任、分组管理员，只能发给自己的人",
        ),
        "can_send_global": serializers.BooleanField(help_text="能否发送全局消息（或覆盖全部用户的受众）"),
        "kinds": serializers.ListField(
            child=serializers.CharField(), help_text="可按身份发送的身份（`kinds`）"
        ),
        "audiences": AudienceOptionSerializer(many=True),
        "pagination": PaginationSerializer,
    },
)


class AudienceListView(EnvelopeAPIView):
    """我可以发送给谁：职工和“消息发送人”可发给所有系所、班级、分组（及任何用户、身份）；辅导员和班主任
    可发给自己的班级及其中的学生，分组管理员可发给自己的分组及其成员（`type=user` 列出可单独选择的人）。
    发送全局消息（或覆盖全部用户的受众）另需“可以发送全局消息”权限。与发送接口、后台撰写页使用同一规则。"""

    permission_classes = (IsAuthenticated, CanSendMessages)
    pagination_class = EnvelopePagination
    pagination_results_key = "audiences"
    list_message = "获取可发送范围成功"

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_audiences_list",
        parameters=[
            OpenApiParameter(
                "type", str, enum=["department", "class", "group", "user"], description="只列出这一类"
            ),
            OpenApiParameter("search", str, description="按名称（用户：工号/学号、姓名、拼音）查找"),
        ],
        responses={
            200: enveloped(AudiencesData, name="AudiencesEnvelope"),
            **envelope_errors(400, 401, 403),
        },
    )
    def get(self, request):
        query = AudienceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = audiences.sender_scope(user=request.user)
        options = audiences.audience_options(
            scope=scope, type=query.validated_data.get("type"), search=query.validated_data.get("search", "")
        )
        page = self.paginate_queryset(options)
        return EnvelopeResponse(
            {
                "scope": scope.name,
                "can_send_global": scope.can_send_global,
                "kinds": audiences.allowed_kinds(scope=scope),
                "audiences": AudienceOptionSerializer(page, many=True).data,
                "pagination": self.paginator.get_pagination_data(),
            },
            message=self.list_message,
        )
