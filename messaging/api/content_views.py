"""Attachments, the hot list and templates under ``/api/v1/`` (issue 20 items 4, 6, 8), in seed 001's
envelope (file downloads answer the file itself). Views validate input, call one service or
selector, and serialise the result."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser

from messaging import attachments, hot, selectors, templates_service
from wechathhu.api.renderers import EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped, enveloped_page
from wechathhu.core.downloads import stored_file_response
from wechathhu.core.errors import NotFoundError

from .content_serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    FromMessageSerializer,
    HotQuerySerializer,
    TemplateInputSerializer,
    TemplateSendSerializer,
    TemplateSerializer,
    TemplateUpdateSerializer,
)
from .hot_serializers import HotMessageSerializer
from .serializers import MessageSerializer
from .views import ADMIN_TAGS, TAGS, EnvelopeAPIView, NullEnvelope, SenderAPIView

TemplateEnvelope = enveloped(TemplateSerializer, name="MessageTemplateEnvelope")
FILE_MISSING = "附件文件不存在。"

FILE_RESPONSES = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="文件本身；`Content-Type` 为按内容识别的类型，`Content-Disposition` 带中文文件名（`filename*`）。",
    ),
    (206, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="`Range` 请求的部分内容"
    ),
    304: OpenApiResponse(description="未修改（`If-None-Match` / `If-Modified-Since`）"),
    **envelope_errors(401, 404),
    412: OpenApiResponse(description="`If-Match` / `If-Unmodified-Since` 不满足"),
    416: OpenApiResponse(description="请求的范围无法满足（`Content-Range: bytes */<大小>`）"),
}
FILE_PARAMETERS = [
    OpenApiParameter("Range", OpenApiTypes.STR, OpenApiParameter.HEADER, description="如 `bytes=0-1023`"),
    OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER),
]


# --- Attachments -------------------------------------------------------------------------------


class AttachmentDownloadView(EnvelopeAPIView):
    """下载消息附件：消息的接收者（全局消息：所有人）在消息可见期间，以及能以发送者身份看到这条消息的人。
    其他人 404。支持 `ETag`/`Last-Modified`（条件请求 304）和单个字节范围（206；超出文件为 416）。"""

    @extend_schema(
        tags=TAGS,
        operation_id="messages_attachment_download",
        parameters=FILE_PARAMETERS,
        responses=FILE_RESPONSES,
    )
    def get(self, request, pk: int, attachment_id: int):
        attachment = attachments.attachment_get_for_download(
            user=request.user, message_id=pk, attachment_id=attachment_id
        )
        try:
            return stored_file_response(
                request,
                attachment.file,
                file_name=attachment.file_name,
                content_type=attachment.content_type,
                sha256=attachment.file_sha256,
                modified_at=attachment.updated_at,
                fallback_stem="attachment",
            )
        except FileNotFoundError:
            raise NotFoundError(FILE_MISSING)


class AdminAttachmentListView(SenderAPIView):
    """消息的附件：POST（`multipart/form-data`，一个或多个 `files`）上传附件，只有发送者可以操作
    （能看到这条消息的其他人 403，看不到的 404）。文件类型按内容识别（与文件名无关），允许的类型、大小和
    每条消息的数量（默认最多 9 个）见设置；一次上传的文件要么全部保存，要么都不保存。"""

    parser_classes = (MultiPartParser, FormParser)
    serializer_class = AttachmentUploadSerializer
    throttle_classes = ()

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_attachments_create",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: enveloped(AttachmentSerializer, name="AttachmentListEnvelope", many=True),
            **envelope_errors(400, 401, 403, 404),
        },
    )
    def post(self, request, pk: int):
        message = selectors.message_get_for_sender(user=request.user, message_id=pk, action="attach")
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = attachments.attachments_add(
            message=message, uploads=serializer.validated_data["files"], user=request.user
        )
        return EnvelopeResponse(
            AttachmentSerializer(created, many=True).data,
            message="上传附件成功",
            status=status.HTTP_201_CREATED,
        )


class AdminAttachmentDetailView(SenderAPIView):
    """删除消息的一个附件（只有发送者可以操作；能看到这条消息的其他人 403，看不到的 404）。"""

    throttle_classes = ()

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_messages_attachments_delete",
        responses={200: NullEnvelope, **envelope_errors(401, 403, 404)},
    )
    def delete(self, request, pk: int, attachment_id: int):
        attachment = attachments.attachment_get_for_sender(
            user=request.user, message_id=pk, attachment_id=attachment_id
        )
        attachments.attachment_delete(attachment=attachment)
        return EnvelopeResponse(None, message="删除附件成功")


# --- Hot list ----------------------------------------------------------------------------------


class HotMessageListView(EnvelopeAPIView):
    """热门消息：最近 `days` 天（1–90，缺省 7）发布、我能看到的消息，按热度排序：窗口内的阅读数，
    以及评论数 ×3、投票数 ×2（消息有这些计数时）。每条消息带 `heat`（热度）和 `reads_in_window`。"""

    serializer_class = HotMessageSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="messages_hot",
        parameters=[OpenApiParameter("days", int, description="统计窗口（天），1–90，缺省 7")],
        responses={
            200: enveloped_page(HotMessageSerializer, name="HotMessagePage"),
            **envelope_errors(400, 401),
        },
    )
    def get(self, request):
        query = HotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = hot.message_hot_list(user=request.user, days=query.validated_data["days"])
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(HotMessageSerializer(page, many=True).data)


# --- Templates ---------------------------------------------------------------------------------


class TemplateListView(SenderAPIView):
    """消息模板（消息群发助手）：GET 列出我的模板和共享的模板；POST 新建模板。标题和内容中可用占位符
    `{姓名}`、`{班级}`、`{系所}`、`{学院}`、`{学号}`、`{工号}`、`{用户名}`，发送时按每位接收者填写；
    未知的占位符为 400（`unknown_placeholders` 列出它们）。"""

    pagination_results_key = "templates"
    list_message = "获取模板列表成功"
    throttle_classes = ()

    def get_serializer_class(self):
        return TemplateInputSerializer if self.request.method == "POST" else TemplateSerializer

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_templates_list",
        responses={
            200: enveloped_page(TemplateSerializer, name="MessageTemplatePage", key="templates"),
            **envelope_errors(401, 403),
        },
    )
    def get(self, request):
        page = self.paginate_queryset(templates_service.template_list(user=request.user))
        return self.get_paginated_response(TemplateSerializer(page, many=True).data)

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_templates_create",
        request=TemplateInputSerializer,
        responses={201: TemplateEnvelope, **envelope_errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = TemplateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = templates_service.template_create(owner=request.user, **serializer.validated_data)
        return EnvelopeResponse(
            TemplateSerializer(template).data, message="创建模板成功", status=status.HTTP_201_CREATED
        )


class TemplateFromMessageView(SenderAPIView):
    """把一条我以发送者身份能看到的消息另存为我的模板。"""

    serializer_class = FromMessageSerializer
    throttle_classes = ()

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_templates_from_message",
        request=FromMessageSerializer,
        responses={201: TemplateEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request):
        serializer = FromMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = templates_service.template_from_message(user=request.user, **serializer.validated_data)
        return EnvelopeResponse(
            TemplateSerializer(template).data, message="另存为模板成功", status=status.HTTP_201_CREATED
        )


class TemplateDetailView(SenderAPIView):
    """一个模板：GET 查看（我的或共享的）；PUT 修改、DELETE 删除（只有创建者，其他人 403）。"""

    serializer_class = TemplateUpdateSerializer
    throttle_classes = ()

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_templates_retrieve",
        responses={200: TemplateEnvelope, **envelope_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        template = templates_service.template_get(user=request.user, template_id=pk)
        return EnvelopeResponse(TemplateSerializer(template).data, message="获取模板成功")

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_templates_update",
        request=TemplateUpdateSerializer,
        responses={200: TemplateEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def put(self, request, pk: int):
        template = templates_service.template_get(user=request.user, template_id=pk, for_change=True)
        serializer = TemplateUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = templates_service.template_update(template=template, data=serializer.validated_data)
        return EnvelopeResponse(TemplateSerializer(template).data, message="更新模板成功")

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_templates_delete",
        responses={200: NullEnvelope, **envelope_errors(401, 403, 404)},
    )
    def delete(self, request, pk: int):
        template = templates_service.template_get(user=request.user, template_id=pk, for_change=True)
        templates_service.template_delete(template=template)
        return EnvelopeResponse(None, message="删除模板成功")


class TemplateSendView(SenderAPIView):
    """用模板一步发送给新的受众（与创建消息相同的受众字段和规则）；占位符按每位接收者填写（含占位符的
    模板不能作为全局消息发送）。返回创建的消息（发送者看到的是模板原文）。"""

    serializer_class = TemplateSendSerializer

    @extend_schema(
        tags=ADMIN_TAGS,
        operation_id="admin_templates_send",
        request=TemplateSendSerializer,
        responses={
            201: enveloped(MessageSerializer, name="TemplateSentEnvelope"),
            **envelope_errors(400, 401, 403, 404),
        },
    )
    def post(self, request, pk: int):
        template = templates_service.template_get(user=request.user, template_id=pk)
        serializer = TemplateSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = templates_service.template_send(
            template=template, sender=request.user, **serializer.validated_data
        )
        message = selectors.message_get_for_sender(user=request.user, message_id=message.pk)
        return EnvelopeResponse(
            MessageSerializer(message).data, message="发送成功", status=status.HTTP_201_CREATED
        )
