"""服务指南 for the mini-program (§2.4, C23–C25): list, download, e-mail."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from guides import links, selectors, services
from guides.filters import GuideFilter
from guides.models import Guide
from wechathhu.api.schema import DETAIL
from wechathhu.core.errors import NotFoundError

from .files import guide_file_response
from .serializers import GuideSerializer
from .throttles import MAIL_THROTTLED, MailRateThrottle

FILE_MISSING = "指南文件不存在。"

FILE_RESPONSES = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="文件本身；`Content-Type` 为文件的类型，`Content-Disposition` 带中文文件名（`filename*`）。",
    ),
    (206, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="`Range` 请求的部分内容"
    ),
    304: OpenApiResponse(description="未修改（`If-None-Match` / `If-Modified-Since`）"),
    404: DETAIL,
    412: OpenApiResponse(description="`If-Match` / `If-Unmodified-Since` 不满足"),
    416: OpenApiResponse(description="请求的范围无法满足（`Content-Range: bytes */<大小>`）"),
}
FILE_PARAMETERS = [
    OpenApiParameter("Range", OpenApiTypes.STR, OpenApiParameter.HEADER, description="如 `bytes=0-1023`"),
    OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER),
]


def _serve(request, guide: Guide):
    try:
        return guide_file_response(request, guide)
    except FileNotFoundError:
        raise NotFoundError(FILE_MISSING)


class GuideListView(ListAPIView):
    """Published guides, newest first, as one unpaginated array (the client groups them by category).

    `search` matches every word in the name or the description.
    """

    serializer_class = GuideSerializer
    filterset_class = GuideFilter
    pagination_class = None
    queryset = Guide.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        return selectors.guide_list_published()

    @extend_schema(tags=["guides"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GuideDownloadView(APIView):
    """Download a guide's file (the client's `wx.downloadFile` with its Token header).

    Streamed, with `ETag`/`Last-Modified` (conditional GET answers 304) and single byte ranges
    (206, or 416 when the range lies beyond the file). Staff may also fetch unpublished guides.
    """

    @extend_schema(tags=["guides"], parameters=FILE_PARAMETERS, responses=FILE_RESPONSES)
    def get(self, request, pk: int):
        return _serve(request, selectors.guide_get_for_download(user=request.user, guide_id=pk))


class GuideLinkDownloadView(APIView):
    """Download through the expiring link sent by e-mail for large files (no login needed).

    404 for a forged or stale link (e.g. the file was replaced), 410 once it has expired.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(
        tags=["guides"],
        parameters=FILE_PARAMETERS,
        responses={**FILE_RESPONSES, 410: DETAIL},
    )
    def get(self, request, token: str):
        return _serve(request, links.guide_get_by_link(token=token))


class GuideEmailView(APIView):
    """Queue a mail with the guide to the signed-in user's e-mail address, and answer at once.

    200 with an empty body means the mail was *queued*, not yet delivered (files over the
    attachment limit are sent as an expiring download link). 400 `{"detail": "您的账户尚未绑定邮箱。"}`
    when the account has no e-mail (checked before the guide), 404 for a missing or unpublished
    guide, 429 when the user asks too often.
    """

    throttle_classes = (MailRateThrottle,)

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait=wait, detail=MAIL_THROTTLED)

    @extend_schema(
        tags=["guides"],
        request=None,
        responses={
            200: OpenApiResponse(description="已排队发送（空响应体）"),
            400: DETAIL,
            404: DETAIL,
            429: DETAIL,
        },
    )
    def post(self, request, pk: int):
        services.guide_mail_request_create(user=request.user, guide_id=pk)
        return Response(status=status.HTTP_200_OK)
