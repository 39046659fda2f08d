"""The mini-program's meeting-room endpoints (original §2.3, §3; seed 002 §四)."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    OpenApiTypes,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.privacy import ContactVisibility
from reservations import selectors, services
from reservations.models import Reservation, ReservationSeries
from wechathhu.api.pagination import MiniProgramPagination
from wechathhu.api.renderers import EncodedJSON
from wechathhu.api.schema import DETAIL

from . import params
from .serializers import (
    LocationChoicesSerializer,
    ReservationCreateSerializer,
    ReservationSerializer,
    RoomAvailabilitySerializer,
    SeriesCancelSerializer,
    SeriesCreateSerializer,
    SeriesDetailSerializer,
    SeriesResultSerializer,
    SeriesSerializer,
    room_bookings_data,
    search_json,
)

FIELD_ERRORS = OpenApiResponse(
    description='错误：`{"non_field_errors": ["会议室在该时间段已经被占用。"]}` 或 `{"字段": ["…"]}`'
)


AVAILABILITY_PARAMETERS = [
    OpenApiParameter("query_from", OpenApiTypes.DATETIME, description="客户端形式：查询开始（UTC，带 Z）"),
    OpenApiParameter("query_to", OpenApiTypes.DATETIME, description="客户端形式：查询结束"),
    OpenApiParameter(
        "time_from", OpenApiTypes.DATETIME, description="检索形式：时间窗开始（ISO 8601，带时区）"
    ),
    OpenApiParameter("time_to", OpenApiTypes.DATETIME, description="检索形式：时间窗结束"),
    OpenApiParameter("people_count", OpenApiTypes.INT, description="开会人数：只返回座位数不少于此的会议室"),
    OpenApiParameter("label", OpenApiTypes.STR, description="检索形式：会议室类型（包含匹配）"),
    OpenApiParameter("location", OpenApiTypes.STR, description="检索形式：会议室位置（包含匹配）"),
    OpenApiParameter("length", OpenApiTypes.INT, description="检索形式：预约时长（分钟）"),
]


class AvailableMeetingroomsView(APIView):
    """会议室可用情况，两种形式。

    **客户端形式**（`query_from`、`query_to`、可选 `people_count`）：座位数足够的每个会议室及其在该时间段内的
    全部预约（跨越时间段边界的预约也包括在内），按座位数升序，`time_range` 为 UTC（`Z`）。预约者的手机号按其
    通讯录隐私设置给出（同系所同事、好友、管理员等可见时），不可见或未填写时为 `null`。

    **检索形式**（seed 002：`time_from`、`time_to`、可选 `people_count`、`label`、`location`、`length`）：
    按位置分组返回 `[{location, meetingrooms: [{id, info, choices}]}]`。不给 `length` 时，返回整个时间窗都空闲的
    会议室（`choices` 为该时间窗）；给出 `length`（分钟）时，返回每个会议室长度为 `length` 的可选时间段：每段
    连续空闲时间的最早时段，以及此后每隔 `RESERVATION_SLOT_STEP_MINUTES` 分钟的时段，任何不短于 `length` 的
    空闲时间都不会被遗漏。时间按预约网格对齐，已过去的时间与超出提前预约期限的时间不在其内；`choices` 的时区与
    请求中 `time_from` 的时区相同。

    参数错误（缺失、格式不对、开始不早于结束、跨度超过上限、时长超出范围）返回 400 `{"detail": "…"}`。
    """

    @extend_schema(
        tags=["reservations"],
        parameters=AVAILABILITY_PARAMETERS,
        responses={
            200: PolymorphicProxySerializer(
                component_name="Availability",
                serializers=[RoomAvailabilitySerializer, LocationChoicesSerializer],
                resource_type_field_name=None,
                many=True,
            ),
            400: DETAIL,
        },
    )
    def get(self, request):
        if params.is_search_form(request.query_params):
            query = params.parse_search_query(request.query_params)
            result = selectors.meetingroom_search(
                start=query.start,
                end=query.end,
                length=query.length,
                people_count=query.people_count,
                label=query.label,
                location=query.location,
            )
            return Response(EncodedJSON(search_json(result, tz=query.tz)))
        query = params.parse_client_query(request.query_params)
        rooms = selectors.meetingroom_bookings(
            start=query.start,
            end=query.end,
            people_count=query.people_count,
            visibility=ContactVisibility(request.user),
        )
        return Response(room_bookings_data(rooms))


class ReservationListView(GenericAPIView):
    """我的预约（GET，未结束的，按创建时间倒序，分页）与预约会议室（POST）。

    POST `{"meetingroom_object", "reserve_from", "reserve_to", "description"}`（时间为 ISO 8601，客户端发送 UTC）。
    规则：开始和结束时间落在预约网格上（默认整点或半点），时长在规定范围内（默认 30 分钟到 3 小时），开始不早于
    当前网格时段、不晚于提前预约期限（默认 60 天），且在会议室的可预约时段内。时间段已被占用时返回 400
    `{"non_field_errors": ["会议室在该时间段已经被占用。"]}`；任意多个并发请求中只有一个能预约成功。
    """

    serializer_class = ReservationSerializer
    pagination_class = MiniProgramPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Reservation.objects.none()
        return selectors.reservation_list_upcoming(user=self.request.user)

    @extend_schema(tags=["reservations"], responses={200: ReservationSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ReservationSerializer(page, many=True).data)

    @extend_schema(
        tags=["reservations"],
        request=ReservationCreateSerializer,
        responses={201: ReservationSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request):
        serializer = ReservationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reservation = services.reservation_create(
            user=request.user,
            meetingroom=data["meetingroom_object"],
            reserve_from=data["reserve_from"],
            reserve_to=data["reserve_to"],
            description=data["description"],
        )
        return Response(ReservationSerializer(reservation).data, status=status.HTTP_201_CREATED)


class ReservationDetailView(APIView):
    """自己的一条未结束的预约：查看（GET）或取消（DELETE，204）。他人的或已结束的预约返回 404。"""

    @extend_schema(tags=["reservations"], responses={200: ReservationSerializer, 404: DETAIL})
    def get(self, request, pk: int):
        reservation = selectors.reservation_get_for_user(user=request.user, reservation_id=pk)
        return Response(ReservationSerializer(reservation).data)

    @extend_schema(tags=["reservations"], responses={204: None, 404: DETAIL})
    def delete(self, request, pk: int):
        reservation = selectors.reservation_get_for_user(user=request.user, reservation_id=pk)
        services.reservation_cancel(reservation=reservation, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SeriesListView(GenericAPIView):
    """我的重复预约（GET，分页）与新建重复预约（POST）。

    POST 按规则（`frequency` 为 `daily` 每天，或 `weekly` 每周的 `weekdays`，1=周一…7=周日；直到 `until`
    或共 `count` 次）逐次检查。每次都须符合预约规则，否则 400 指明日期。与已有预约冲突的日期列在 `conflicts`：
    `on_conflict=abort`（默认）时不预约任何一次，返回 400
    `{"non_field_errors": ["以下日期会议室在该时间段已经被占用：…"], "conflicts": ["2026-12-01", …]}`；
    `on_conflict=skip` 时预约其余日期，返回 201 及每次的结果。`dry_run=true` 只返回计划（200），不预约。
    取消其中一次用 `DELETE /reservations/<id>/`，取消剩余各次用 `DELETE /reservations/series/<id>/`。
    """

    serializer_class = SeriesSerializer
    pagination_class = MiniProgramPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ReservationSeries.objects.none()
        return selectors.series_list_for_user(user=self.request.user)

    @extend_schema(tags=["reservations"], responses={200: SeriesSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SeriesSerializer(page, many=True).data)

    @extend_schema(
        tags=["reservations"],
        request=SeriesCreateSerializer,
        responses={201: SeriesResultSerializer, 200: SeriesResultSerializer, 400: FIELD_ERRORS},
    )
    def post(self, request):
        serializer = SeriesCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = services.series_create(
            user=request.user,
            meetingroom=data["meetingroom_object"],
            description=data["description"],
            frequency=data["frequency"],
            weekdays=data["weekdays"],
            start_date=data["start_date"],
            until=data["until"],
            count=data["count"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            on_conflict=data["on_conflict"],
            dry_run=data["dry_run"],
        )
        return Response(
            SeriesResultSerializer(SeriesResultSerializer.from_plan(plan)).data,
            status=status.HTTP_200_OK if data["dry_run"] else status.HTTP_201_CREATED,
        )


class SeriesDetailView(APIView):
    """一项自己的重复预约及其未结束的各次（GET）；取消剩余各次（DELETE，可带 `from_date` 只取消此后的）。"""

    @extend_schema(tags=["reservations"], responses={200: SeriesDetailSerializer, 404: DETAIL})
    def get(self, request, pk: int):
        series = selectors.series_get_for_user(user=request.user, series_id=pk)
        series.upcoming_occurrences = list(
            selectors.series_upcoming_occurrences(series=series).select_related("meetingroom")
        )
        return Response(SeriesDetailSerializer(series).data)

    @extend_schema(
        tags=["reservations"],
        parameters=[SeriesCancelSerializer],
        responses={
            200: OpenApiResponse(description='`{"cancelled": 3}`：取消的次数'),
            400: FIELD_ERRORS,
            404: DETAIL,
        },
    )
    def delete(self, request, pk: int):
        series = selectors.series_get_for_user(user=request.user, series_id=pk)
        query = SeriesCancelSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        cancelled = services.series_cancel(series=series, from_date=query.validated_data["from_date"])
        return Response({"cancelled": cancelled})
