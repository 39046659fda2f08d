"""Repair requests for the mini-program (C20–C22) and the reporter's follow-ups."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from repairs import selectors, services
from repairs.models import RepairRequest, RepairStatus
from wechathhu.api.pagination import MiniProgramPagination
from wechathhu.api.parsers import JSONParser
from wechathhu.api.schema import DETAIL

from .serializers import (
    CategorySerializer,
    ConfirmInputSerializer,
    RatingInputSerializer,
    ReopenInputSerializer,
    RepairCreatedSerializer,
    RepairCreateInputSerializer,
    RepairDetailSerializer,
    RepairListSerializer,
)
from .throttles import RepairCreateThrottle

FIELDS = OpenApiResponse(description='字段错误：`{"<字段>": ["…"]}`')
TAGS = ["repairs"]


class CategoryListView(ListAPIView):
    """故障分类：启用的分类，按后台设定的顺序（不分页的数组）。"""

    serializer_class = CategorySerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.category_list_active()

    @extend_schema(tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RepairListCreateView(GenericAPIView):
    serializer_class = RepairListSerializer
    pagination_class = MiniProgramPagination
    parser_classes = (JSONParser, MultiPartParser, FormParser)

    def get_serializer_class(self):
        # The browsable API's form for POST shows what a new request takes.
        return RepairCreateInputSerializer if self.request.method == "POST" else RepairListSerializer

    def get_throttles(self):
        return [RepairCreateThrottle()] if self.request.method == "POST" else []

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait=wait, detail="报修提交过于频繁，请稍后再试。")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return RepairRequest.objects.none()
        return selectors.repair_request_list_for_user(user=self.request.user)

    @extend_schema(tags=TAGS, responses={200: RepairListSerializer(many=True)})
    def get(self, request):
        """我的报修：当前用户提交的报修，按提交时间倒序，每页 20 条。"""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        request={
            "application/json": RepairCreateInputSerializer,
            "multipart/form-data": RepairCreateInputSerializer,
        },
        responses={201: RepairCreatedSerializer, 400: FIELDS, 429: DETAIL},
    )
    def post(self, request):
        """提交报修：`location`、`description` 必填，`category` 可选；照片用 multipart 的 `photos` 上传。

        报修保存后，按故障分类通知对应的收件人（邮件在提交后发出；邮件服务暂时不可用时，
        报修照样保存，邮件稍后补发）。
        """
        serializer = RepairCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        repair = services.repair_request_create(
            user=request.user,
            location=data["location"],
            category=data["category"],
            description=data["description"],
            photos=data["photos"],
        )
        return Response(RepairCreatedSerializer(repair).data, status=status.HTTP_201_CREATED)


class RepairDetailView(APIView):
    @extend_schema(tags=TAGS, responses={200: RepairDetailSerializer, 404: DETAIL})
    def get(self, request, pk: int):
        """报修详情：含照片、处理记录（不含内部备注）以及报修人现在可以做的操作。"""
        repair = selectors.repair_request_get_for_user(user=request.user, request_id=pk)
        return Response(RepairDetailSerializer(repair, context={"request": request}).data)


def detail_response(request, repair) -> Response:
    repair = selectors.repair_request_get_for_user(user=request.user, request_id=repair.pk)
    return Response(RepairDetailSerializer(repair, context={"request": request}).data)


class RepairConfirmView(APIView):
    @extend_schema(
        tags=TAGS,
        request=ConfirmInputSerializer,
        responses={200: RepairDetailSerializer, 400: DETAIL, 404: DETAIL},
    )
    def post(self, request, pk: int):
        """确认已解决：已解决 → 已关闭，可同时评分（1–5）。"""
        repair = selectors.repair_request_get_for_user(user=request.user, request_id=pk)
        serializer = ConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        repair = services.repair_request_confirm(repair=repair, by=request.user, **serializer.validated_data)
        return detail_response(request, repair)


class RepairReopenView(APIView):
    @extend_schema(
        tags=TAGS,
        request=ReopenInputSerializer,
        responses={200: RepairDetailSerializer, 400: DETAIL, 404: DETAIL},
    )
    def post(self, request, pk: int):
        """重新打开：问题没有解决时，已解决 → 处理中，需说明原因。"""
        repair = selectors.repair_request_get_for_user(user=request.user, request_id=pk)
        serializer = ReopenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        repair = services.repair_request_change_status(
            repair=repair,
            to_status=RepairStatus.PROCESSING,
            by=request.user,
            comment=serializer.validated_data["reason"],
        )
        return detail_response(request, repair)


class RepairCancelView(APIView):
    @extend_schema(tags=TAGS, request=None, responses={200: RepairDetailSerializer, 400: DETAIL, 404: DETAIL})
    def post(self, request, pk: int):
        """撤销报修：尚未受理的报修可以由报修人撤销（未受理 → 已关闭）。"""
        repair = selectors.repair_request_get_for_user(user=request.user, request_id=pk)
        repair = services.repair_request_change_status(
            repair=repair, to_status=RepairStatus.CLOSED, by=request.user, comment="报修人撤销"
        )
        return detail_response(request, repair)


class RepairRateView(APIView):
    @extend_schema(
        tags=TAGS,
        request=RatingInputSerializer,
        responses={200: RepairDetailSerializer, 400: DETAIL, 404: DETAIL},
    )
    def post(self, request, pk: int):
        """评价：报修解决后，报修人可以评分（1–5）一次，并留下评价。"""
        repair = selectors.repair_request_get_for_user(user=request.user, request_id=pk)
        serializer = RatingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        repair = services.repair_request_rate(repair=repair, by=request.user, **serializer.validated_data)
        return detail_response(request, repair)


class RepairPhotoView(APIView):
    @extend_schema(
        tags=TAGS,
        responses={(200, "image/*"): OpenApiResponse(description="照片文件"), 404: DETAIL},
    )
    def get(self, request, pk: int, photo_pk: int):
        """报修照片：只有报修人和工作人员可以查看。"""
        photo = selectors.repair_request_get_for_photo(user=request.user, request_id=pk, photo_id=photo_pk)
        response = FileResponse(photo.image.open("rb"), content_type=photo.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        return response
