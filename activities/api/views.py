"""The mini-program's activity calls (original-system §2.2: C10–C15), plus the officers' QR code."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from activities import qr, selectors, services
from activities.models import Activity, ClockinItem, Enrollment, EnrollmentStatus
from wechathhu.api.pagination import MiniProgramPagination
from wechathhu.api.schema import DETAIL
from wechathhu.core.errors import ApplicationError

from ..errors import ActivitiesErrorCode as Code
from .serializers import (
    ActivityListFilterSerializer,
    ActivityListSerializer,
    ActivitySerializer,
    ClockinCodeSerializer,
    ClockinItemSerializer,
    ClockinResultSerializer,
    ClockinScanSerializer,
    EnrollmentCreateSerializer,
    EnrollmentSerializer,
)

FIELD_ERRORS = OpenApiResponse(description='错误：`{"activity": ["…"]}` 或 `{"non_field_errors": ["…"]}`')


class ActivityListView(ListAPIView):
    """活动列表：开放报名且面向我的活动，加上我报名过的所有活动（含已关闭、已结束的）。

    `my=yes` 只看我报名（含候补）的活动；`search` 按名称搜索（空格或逗号分隔的多个词须全部匹配）。
    每页 20 条，按开始时间倒序。`state` 给出报名状态。
    """

    serializer_class = ActivityListSerializer
    pagination_class = MiniProgramPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        params = ActivityListFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.activity_list_for_user(
            user=self.request.user,
            my=params.validated_data.get("my") == "yes",
            search=params.validated_data.get("search", ""),
        )

    @extend_schema(tags=["activities"], parameters=[ActivityListFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ActivityDetailView(APIView):
    """活动详情（含报名表单 `form_metas`，为 JSON 字符串）。我报名过的活动即使已关闭也能查看。"""

    @extend_schema(tags=["activities"], responses={200: ActivitySerializer, 404: DETAIL})
    def get(self, request, pk):
        activity = selectors.activity_get_for_user(user=request.user, activity_id=pk)
        return Response(ActivitySerializer(activity, context={"request": request}).data)


class EnrollmentCreateView(GenericAPIView):
    """我的报名记录（GET，含候补，按报名时间倒序，分页；列表中 `waiting_position` 为 null，详见单条）与报名（POST）。

    报名。`participating_metas` 可为 JSON 字符串（小程序的做法）或对象，按活动的报名表单逐项校验。

    活动状态的错误在 `activity` 下，重复报名、表单错误与名额已满在 `non_field_errors` 下。
    名额已满且活动启用候补时，传 `join_waiting_list: true` 可加入候补名单（`status` 为 `waiting`），
    有人取消后按报名先后递补，并通过消息中心通知。
    """

    serializer_class = EnrollmentSerializer
    pagination_class = MiniProgramPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        return selectors.enrollment_list_for_user(user=self.request.user)

    @extend_schema(tags=["activities"], responses={200: EnrollmentSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EnrollmentSerializer(page, many=True).data)

    @extend_schema(
        tags=["activities"],
        request=EnrollmentCreateSerializer,
        responses={201: EnrollmentSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request):
        serializer = EnrollmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrollment = services.enrollment_create(user=request.user, **serializer.validated_data)
        if enrollment.status == EnrollmentStatus.WAITING:
            enrollment.waiting_position = selectors.enrollment_waiting_position(enrollment=enrollment)
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class EnrollmentDetailView(APIView):
    """我的一条报名记录：查看，或取消报名（活动开始后不能取消；空出的名额由候补递补）。"""

    @extend_schema(tags=["activities"], responses={200: EnrollmentSerializer, 404: DETAIL})
    def get(self, request, pk):
        enrollment = selectors.enrollment_get_for_user(user=request.user, enrollment_id=pk)
        if enrollment.status == EnrollmentStatus.WAITING:
            enrollment.waiting_position = selectors.enrollment_waiting_position(enrollment=enrollment)
        return Response(EnrollmentSerializer(enrollment).data)

    @extend_schema(tags=["activities"], responses={204: None, 400: DETAIL, 404: DETAIL})
    def delete(self, request, pk):
        enrollment = selectors.enrollment_get_for_user(user=request.user, enrollment_id=pk)
        services.enrollment_cancel(enrollment=enrollment, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClockinScanView(APIView):
    """扫码打卡。`key` 为扫到的二维码原文；活动设定了打卡范围时须同时给出 `latitude`、`longitude`。

    成功返回 `{label, activity_name}`。此前已打过卡（重试或重复扫码）时同样返回 200，
    `already_clocked_in` 为 true 并在 `detail` 中说明，不会新增记录。其余情况返回 400 `{"detail"}`。
    """

    @extend_schema(
        tags=["activities"],
        request=ClockinScanSerializer,
        responses={200: ClockinResultSerializer, 400: DETAIL},
    )
    def post(self, request):
        return clockin_scan_response(request)


def clockin_scan_response(request, activity_id: int | None = None) -> Response:
    """A scan answered as ``POST /activities/clockins/`` answers it; with ``activity_id`` (seed
    002's ``POST /activities/clockins/<activity_id>/``) the code must be one of that activity's."""
    serializer = ClockinScanSerializer(data=request.data)
    if not serializer.is_valid():
        if {"latitude", "longitude"} & set(serializer.errors) and "key" not in serializer.errors:
            raise ApplicationError(services.LOCATION_INVALID, code=Code.LOCATION_INVALID)
        raise ApplicationError(services.QR_INVALID, code=Code.QR_INVALID)
    result = services.clockin_scan(user=request.user, activity_id=activity_id, **serializer.validated_data)
    record = result.record
    data = {
        "label": record.item.label,
        "activity_name": record.item.activity.name,
        "clocked_at": record.created_at,
        "already_clocked_in": not result.created,
    }
    if not result.created:
        data["detail"] = (
            f"{services.DUPLICATE_CLOCKIN}您此前已完成「{record.item.label}」打卡，无需重复扫码。"
        )
    return Response(ClockinResultSerializer(data).data)


class ClockinListView(ListAPIView):
    """一个活动的打卡项，以及我是否已打卡（`is_clockin`），按打卡开始时间排序。不分页。

    POST 与 `POST /activities/clockins/` 相同（种子文档的写法），扫到的二维码须属于该活动。
    """

    serializer_class = ClockinItemSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ClockinItem.objects.none()
        return selectors.clockin_item_list_for_user(
            user=self.request.user, activity_id=self.kwargs["activity_id"]
        )

    @extend_schema(tags=["activities"], responses={200: ClockinItemSerializer(many=True), 404: DETAIL})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["activities"],
        operation_id="activities_clockins_scan_for_activity",
        request=ClockinScanSerializer,
        responses={200: ClockinResultSerializer, 400: DETAIL},
    )
    def post(self, request, activity_id):
        return clockin_scan_response(request, activity_id=activity_id)


class ClockinCodeView(APIView):
    """打卡员在手机上出示的打卡二维码：返回二维码文本 `key` 与距刷新的秒数 `expires_in`。

    `url` 是同一二维码的网址形式（手机相机、微信扫一扫可直接打开手机门户打卡；小程序扫到它同样可以打卡），
    `short_code` 是同时有效的六位打卡码（没有相机时在手机门户的活动页输入）。

    只有该打卡项的打卡员（及有打卡项管理权限的后台人员）可以获取；能看到该活动的其他人 403，
    看不到该活动的人 404（与打卡项不存在相同）。
    """

    @extend_schema(
        tags=["activities"],
        parameters=[OpenApiParameter("label", str, required=True, description="打卡项标签，如 签到")],
        responses={200: ClockinCodeSerializer, 400: DETAIL, 403: DETAIL, 404: DETAIL},
    )
    def get(self, request, activity_id):
        label = request.query_params.get("label", "").strip()
        if not label:
            raise ApplicationError("缺少参数 label（打卡项标签）。", code=Code.LABEL_MISSING)
        item = selectors.clockin_item_get_for_officer(user=request.user, activity_id=activity_id, label=label)
        key = qr.make_key(item.pk)
        data = {
            "key": key,
            "url": qr.scan_url(key),
            "short_code": qr.short_code(item.pk),
            "label": item.label,
            "activity_name": item.activity.name,
            "expires_in": qr.seconds_left(),
            "step_seconds": settings.ACTIVITIES_CLOCKIN_STEP_SECONDS,
        }
        return Response(ClockinCodeSerializer(data).data)
