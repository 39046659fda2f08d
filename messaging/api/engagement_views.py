"""The message center's additions under ``/api/v1/`` (issue 20), in seed 001's envelope.

Views validate input, call one service or selector, and serialise the result.
"""

from drf_spectacular.utils import extend_schema

from messaging import categories, preferences
from wechathhu.api.renderers import EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped, enveloped_page

from .engagement_serializers import (
    MessageCategorySerializer,
    PreferencesInputSerializer,
    PreferencesSerializer,
)
from .views import TAGS, EnvelopeAPIView

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
