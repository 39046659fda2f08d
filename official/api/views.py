"""The official account's HTTP doors: WeChat's webhook and the page login (网页授权).

Neither is a JSON API: the webhook speaks WeChat's XML and is public but signed (nothing is
read, parsed or written before the signature and the clock are checked); the OAuth pair
redirects a browser and logs it in with a Django session for the H5 portal.
"""

import logging
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.views import APIView

from official import services
from portal.services import page_session_start
from wechathhu.core.errors import ApplicationError
from wechathhu.integrations import official

logger = logging.getLogger(__name__)

TAGS = ["official"]
SESSION_OAUTH = "official_oauth"
SESSION_OPENID = "official_openid"  # an unbound follower's openid, for the H5 login/claim to bind
REFUSED_TEXT = {400: "请求格式错误", 403: "签名无效或请求已过期", 404: "未配置微信公众号", 413: "请求过大"}


class _TextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data or "").encode("utf-8")


class _AnyContent(BaseContentNegotiation):
    """WeChat and browsers take what these views send, whatever their Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _Door(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    parser_classes = ()
    renderer_classes = (_TextRenderer,)
    content_negotiation_class = _AnyContent

    def perform_authentication(self, request):
        """Nothing: the webhook is signed, and the page login reads Django's own session user
        (``request._request.user``), which DRF would otherwise replace with an anonymous one."""


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _refused(request, exc: official.Refused) -> HttpResponse:
    logger.warning(
        "Webhook refused (%s) from %s: %s", exc.status, request.META.get("REMOTE_ADDR"), exc.reason
    )
    return _text(exc.status, REFUSED_TEXT.get(exc.status, "请求被拒绝"))


SIGNED = [
    OpenApiParameter("signature", str, description="sha1(排序后的 token、timestamp、nonce)"),
    OpenApiParameter("timestamp", str, description="Unix 时间（秒），与服务器相差超过容许范围即拒绝"),
    OpenApiParameter("nonce", str),
]
REFUSALS = {
    400: OpenApiResponse(description="格式错误（含 DTD/实体的 XML、字段类型不对、解密失败）"),
    403: OpenApiResponse(description="签名无效、缺少签名或时间戳过期（重放）"),
    404: OpenApiResponse(description="未配置公众号（WECHAT_OFFICIAL_APP_ID 等）"),
}


class WebhookView(_Door):
    """微信公众号服务器回调（消息与事件推送）。公开但须签名：签名、时间戳在一切之前校验。"""

    @extend_schema(
        tags=TAGS,
        auth=[],
        summary="URL 验证",
        parameters=[*SIGNED, OpenApiParameter("echostr", str, description="验证通过时原样返回")],
        responses={(200, "text/plain"): OpenApiTypes.STR, **REFUSALS},
    )
    def get(self, request):
        if not official.is_enabled():
            return _text(404, official.DISABLED)
        try:
            return _text(200, official.verify_get(request.query_params))
        except official.Refused as exc:
            return _refused(request, exc)

    @extend_schema(
        tags=TAGS,
        auth=[],
        summary="接收消息与事件",
        description=(
            "明文模式直接推送 XML；安全模式带 encrypt_type=aes 与 msg_signature，消息体为加密 XML。"
            "同一 MsgId（事件为发送者 + CreateTime）的重试只生效一次，并得到与第一次相同的回复。"
        ),
        parameters=[
            *SIGNED,
            OpenApiParameter("openid", str, description="发送者（与 FromUserName 一致）"),
            OpenApiParameter("encrypt_type", str, enum=["aes"]),
            OpenApiParameter("msg_signature", str, description="安全模式：消息体签名"),
        ],
        request={"application/xml": OpenApiTypes.STR},
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.STR, description="被动回复；无话可说时为 success"
            ),
            **REFUSALS,
            413: OpenApiResponse(description="消息体过大"),
        },
    )
    def post(self, request):
        if not official.is_enabled():
            return _text(404, official.DISABLED)
        query = request.query_params
        django_request = request._request
        try:
            official.verify_post(query, content_length=_content_length(django_request.META))
            body = django_request.read(settings.WECHAT_OFFICIAL_MAX_BODY_BYTES + 1)
            xml = official.decode_body(body, query)
            inbound = official.parse_inbound(xml)
            sender = query.get("openid")
            if sender and not inbound.is_system and sender != inbound.openid:
                raise official.Refused(400, "openid of the URL and of the message differ")
        except official.Refused as exc:
            return _refused(request, exc)
        reply = services.webhook_receive(inbound=inbound)
        content, content_type = official.render_reply(reply, query)
        return HttpResponse(content, content_type=content_type)


def _content_length(meta) -> int | None:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0) or None
    except ValueError:
        return None


# --- Page login (网页授权) --------------------------------------------------------------------------


def _safe_next(request, value: str | None) -> str:
    value = (value or "").strip()
    if (
        value
        and len(value) <= 1000
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False)
    ):
        return value
    return settings.WECHAT_OFFICIAL_OAUTH_DEFAULT_NEXT


def _login_url(next_url: str) -> str:
    return f"{settings.WECHAT_OFFICIAL_LOGIN_URL}?{urlencode({'next': next_url})}"


def _page(request, status: int, message: str):
    return render(request, "official/oauth_error.html", {"message": message}, status=status)


PAGE = {"text/html": OpenApiTypes.STR}


class OAuthStartView(_Door):
    """网页授权的起点：跳转到微信授权页（snsapi_base，静默，只取 openid），微信再带 code 回到
    /wechat/oauth/。未配置公众号时直接前往 H5 登录页。"""

    @extend_schema(
        tags=TAGS,
        auth=[],
        summary="网页授权：跳转到微信",
        parameters=[OpenApiParameter("next", str, description="登录后前往的本站路径，默认 /m/")],
        responses={302: OpenApiResponse(description="跳转到微信授权页（未配置公众号时跳转到登录页）")},
    )
    def get(self, request):
        next_url = _safe_next(request, request.query_params.get("next"))
        if not official.is_enabled():
            return HttpResponseRedirect(_login_url(next_url))
        state = secrets.token_hex(16)
        request.session[SESSION_OAUTH] = {"state": state, "next": next_url}
        callback = settings.SITE_URL + reverse("official:oauth-callback")
        return HttpResponseRedirect(official.oauth_authorize_url(redirect_uri=callback, state=state))


class OAuthCallbackView(_Door):
    """网页授权回调：用 code 换取粉丝的 openid。已绑定的用户以 Django 会话登录并前往 next；未绑定的
    前往 H5 登录页，openid 暂存在会话的 official_openid 中，登录或认领成功后绑定。朋友圈快照页中的
    虚拟用户（is_snapshotuser=1）被拒绝。"""

    # The H5 login / claim pages read request.session["official_openid"] (SESSION_OPENID) and call
    # official.services.follower_bind_user(openid=…, user=…) after the user proved who they are.

    @extend_schema(
        tags=TAGS,
        auth=[],
        summary="网页授权：回调",
        parameters=[OpenApiParameter("code", str), OpenApiParameter("state", str)],
        responses={
            302: OpenApiResponse(description="已绑定：登录并前往 next；未绑定：前往登录页"),
            (400, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="授权已失效或不是本站发起"),
            (403, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="快照页中的虚拟用户"),
            (404, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="未配置公众号"),
            (503, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="暂时无法连接微信"),
        },
    )
    def get(self, request):
        if not official.is_enabled():
            return _page(request, 404, official.DISABLED)
        saved = request.session.pop(SESSION_OAUTH, None) or {}
        code = request.query_params.get("code") or ""
        state = request.query_params.get("state") or ""
        if (
            not isinstance(saved, dict)
            or not saved.get("state")
            or not constant_time_compare(state, saved["state"])
        ):
            return _page(request, 400, "登录请求已失效，请返回重新打开页面。")
        if not code or len(code) > 128:
            return _page(request, 400, "微信未完成授权，请返回重新打开页面。")
        next_url = _safe_next(request, saved.get("next"))
        try:
            identity = official.oauth_exchange(code=code)
        except official.WeChatUnavailable as exc:
            return _page(request, 503, str(exc))
        except official.WeChatError as exc:
            return _page(request, 400, str(exc))
        if identity.is_snapshotuser:
            return _page(request, 403, "请点击页面下方的“使用完整服务”后再登录。")
        try:
            session_user = request._request.user
            user = services.oauth_login_user(
                openid=identity.openid, unionid=identity.unionid, session_user=session_user
            )
        except ApplicationError as exc:
            return _page(request, exc.status, exc.message)
        if user is None:
            request.session[SESSION_OPENID] = identity.openid
            return HttpResponseRedirect(_login_url(next_url))
        request.session.pop(SESSION_OPENID, None)
        if session_user != user:
            # The portal's sign-in: a Django session, listed (and revocable) with the user's devices.
            page_session_start(request=request._request, user=user)
        return HttpResponseRedirect(next_url)
