"""The only module that talks to the WeChat official account (公众号), in both directions.

Everything protocol is wechatpy's: the webhook signature (``check_signature``), safe-mode
encryption (``WeChatCrypto``), message parsing (``parse_message``), passive replies
(``wechatpy.replies``), the customer-service, template, tag, menu, QR-code, mass-send and user
APIs (``WeChatClient``) and page OAuth (``WeChatOAuth``). This module adds what a deployment with
several processes needs around them:

* the API host is ``settings.WECHAT_API_BASE_URL`` (a local fake in tests and the benchmark) and
  every call has a timeout (``TimeoutSession`` of the mini-program client);
* the access token lives in Django's cache (``DjangoCacheStorage``: Redis in a full deployment),
  so every worker shares one token, and a fetch takes a lock in the same cache, so that several
  workers finding it expired fetch it once (each fetch invalidates the previous token);
* errors are ``WeChatError(errcode=…)`` when WeChat refuses and ``WeChatUnavailable`` when it
  cannot be reached (network, timeout, HTTP 5xx, an answer that is not WeChat's JSON), as
  ``wechat.send_subscribe_message`` does;
* the webhook's input is checked before it is trusted: the signature first, then the clock, the
  size, no DTD (an XML bomb or external entity never reaches the parser), and every field the
  portal reads has the type WeChat documents (``InboundError`` otherwise).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.core.cache import cache
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth
from wechatpy.replies import ArticlesReply, BaseReply, EmptyReply, ImageReply, TextReply
from wechatpy.utils import check_signature

from wechathhu.api.exceptions import is_cache_outage

from .wechat import (
    UNREACHABLE,
    DjangoCacheStorage,
    PortalWeChatClient,
    TimeoutSession,
    WeChatDisabled,
    WeChatError,
    WeChatUnavailable,
    call,
)

__all__ = [
    "WeChatError",
    "WeChatUnavailable",
    "OfficialDisabled",
    "is_enabled",
    "is_safe_mode",
    "get_client",
    # webhook
    "Refused",
    "Inbound",
    "verify_get",
    "verify_post",
    "decode_body",
    "parse_inbound",
    "render_reply",
    "text_reply",
    "article_reply",
    "image_reply",
    # outgoing
    "send_template_message",
    "send_text",
    "send_image",
    "send_voice",
    "send_video",
    "send_music",
    "send_news",
    "send_customer_service",
    "menu_create",
    "qrcode_create",
    "tag_list",
    "tag_create",
    "tag_update",
    "tag_delete",
    "tag_members_add",
    "tag_members_remove",
    "mass_send",
    "user_info",
    "oauth_authorize_url",
    "oauth_exchange",
]

logger = logging.getLogger(__name__)

DISABLED = (
    "未配置微信公众号：请设置 WECHAT_OFFICIAL_APP_ID、WECHAT_OFFICIAL_APP_SECRET 和 "
    "WECHAT_OFFICIAL_TOKEN（安全模式另需 WECHAT_OFFICIAL_ENCODING_AES_KEY）。"
)


class OfficialDisabled(WeChatDisabled):
    """No official-account credentials are configured."""

    def __init__(self, message: str = DISABLED):
        super().__init__(message)


def is_enabled() -> bool:
    return bool(settings.WECHAT_OFFICIAL_ENABLED)


def is_safe_mode() -> bool:
    return bool(settings.WECHAT_OFFICIAL_ENCODING_AES_KEY)


def _require_enabled() -> None:
    if not is_enabled():
        raise OfficialDisabled()


# --- The API client: one shared token --------------------------------------------------------------


class _TokenStorage(DjangoCacheStorage):
    """The shared token store; a token is dropped 5 minutes before WeChat expires it, so no call
    is made with one that is about to stop working (WeChat renews with a 5-minute overlap)."""

    margin = 300

    def set(self, key, value, ttl=None):
        if ttl and ttl > 2 * self.margin:
            ttl -= self.margin
        super().set(key, value, ttl)


class OfficialClient(PortalWeChatClient):
    """wechatpy's client for the official account: shared token, base URL, timeouts, and a
    fetch lock so that one process fetches a new token while the others wait for it."""

    lock_seconds = 10

    def fetch_access_token(self):
        key = self.access_token_key
        # The token this client found unusable: none at all for a client that has not fetched one
        # itself (wechatpy asks for a fetch only when the shared token is missing), else the one whose
        # expiry this client recorded. Any other token in the cache is another process's fresh fetch.
        stale = self.session.get(key) if self.expires_at else None
        lock = f"wechatpy-lock:{key}"
        try:
            acquired = cache.add(lock, 1, timeout=self.lock_seconds)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise
            acquired = True  # no shared cache: each process fetches its own, as wechatpy would
        if acquired:
            try:
                token = self.session.get(key)
                if token and token != stale:  # fetched by another process since this client looked
                    return {"access_token": token}
                return super().fetch_access_token()
            finally:
                try:
                    cache.delete(lock)
                except Exception as exc:
                    if not is_cache_outage(exc):
                        raise
        deadline = time.monotonic() + min(self.lock_seconds, self.timeout or self.lock_seconds)
        while time.monotonic() < deadline:
            time.sleep(0.05)
            token = self.session.get(key)
            if token and token != stale:
                return {"access_token": token}
        # The other fetch failed or hangs: fetch ourselves.
        return super().fetch_access_token()


def get_client() -> OfficialClient:
    _require_enabled()
    return OfficialClient(
        settings.WECHAT_OFFICIAL_APP_ID,
        settings.WECHAT_OFFICIAL_APP_SECRET,
        session=_TokenStorage(),
        timeout=settings.WECHAT_TIMEOUT,
        base_url=settings.WECHAT_API_BASE_URL,
    )


def _call(what: str, request):
    """One API call, ``request(client)``, through the shared error mapping (``wechat.call``):
    ``WeChatError(errcode=…)`` when WeChat refuses, ``WeChatUnavailable`` when it cannot be reached
    or answers an HTTP error or something that is not JSON; a stale token is fetched again once."""
    try:
        return call(get_client(), request, what=what)
    except ValueError as exc:  # a token answer that is not JSON
        logger.warning("WeChat %s: unreadable answer %r", what, exc)
        raise WeChatUnavailable(UNREACHABLE) from exc


# --- Webhook: checking a request ------------------------------------------------------------------


class Refused(Exception):  # noqa: N818 - a refusal, not an error of ours
    """The webhook refuses a request: ``status`` is the HTTP answer, ``reason`` goes to the log."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


_DIGITS = re.compile(r"^[0-9]{1,12}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")
# WeChat never sends a document type declaration; with one come entity expansion ("billion
# laughs") and external entities, so any body containing one is refused before parsing.
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


def _check_signed(query, *, now: float | None) -> None:
    signature = query.get("signature") or ""
    timestamp = query.get("timestamp") or ""
    nonce = query.get("nonce") or ""
    if not (_HEX40.match(signature) and _DIGITS.match(timestamp) and _NONCE.match(nonce)):
        raise Refused(403, "missing or malformed signature parameters")
    try:
        check_signature(settings.WECHAT_OFFICIAL_TOKEN, signature.lower(), timestamp, nonce)
    except InvalidSignatureException:
        raise Refused(403, "bad signature") from None
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > settings.WECHAT_OFFICIAL_TIMESTAMP_TOLERANCE:
        raise Refused(403, "stale timestamp (a replay, or a clock far off)")


def verify_get(query, *, now: float | None = None) -> str:
    """URL verification (the GET WeChat sends when the URL is saved): the ``echostr`` to echo.

    The official account signs the handshake the same way in every mode (plain, compatible, safe).
    """
    _require_enabled()
    _check_signed(query, now=now)
    echostr = query.get("echostr") or ""
    if not echostr or len(echostr) > 128 or not echostr.isprintable():
        raise Refused(400, "missing echostr")
    return echostr


def verify_post(query, *, content_length: int | None, now: float | None = None) -> None:
    """Everything that can be decided before reading the body: signature, clock, declared size."""
    _require_enabled()
    _check_signed(query, now=now)
    if content_length is not None and content_length > settings.WECHAT_OFFICIAL_MAX_BODY_BYTES:
        raise Refused(413, "body too large")


def _crypto() -> WeChatCrypto:
    return WeChatCrypto(
        settings.WECHAT_OFFICIAL_TOKEN,
        settings.WECHAT_OFFICIAL_ENCODING_AES_KEY,
        settings.WECHAT_OFFICIAL_APP_ID,
    )


def _no_dtd(body: bytes) -> None:
    if _DTD.search(body):
        raise Refused(400, "document type declaration (entities) in the body")


def decode_body(body: bytes, query) -> str:
    """The message XML of a verified POST: the body itself in plain mode; in safe mode (and for
    WeChat's compatible mode, which sends ``encrypt_type=aes``) decrypted with ``msg_signature``."""
    if len(body) > settings.WECHAT_OFFICIAL_MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    if not body.strip():
        raise Refused(400, "empty body")
    _no_dtd(body)
    encrypted = query.get("encrypt_type") == "aes"
    if is_safe_mode() and not encrypted:
        raise Refused(400, "safe mode: an unencrypted message")
    if not encrypted:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "body is not UTF-8") from None
    if not is_safe_mode():
        raise Refused(400, "an encrypted message but no EncodingAESKey is configured")
    msg_signature = query.get("msg_signature") or ""
    if not _HEX40.match(msg_signature):
        raise Refused(403, "missing msg_signature")
    try:
        xml = _crypto().decrypt_message(
            body.decode("utf-8"), msg_signature.lower(), query.get("timestamp"), query.get("nonce")
        )
    except InvalidSignatureException:
        raise Refused(403, "bad msg_signature") from None
    except Exception as exc:  # malformed XML, base64, padding, app id: all "not WeChat's message"
        raise Refused(400, f"cannot decrypt: {exc.__class__.__name__}") from None
    _no_dtd(xml.encode("utf-8"))
    return xml


# --- Webhook: reading a message ---------------------------------------------------------------------

_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SYSTEM_EVENTS = {"masssendjobfinish", "templatesendjobfinish"}


@dataclass(frozen=True)
class Inbound:
    """One message or event from WeChat, with the fields the portal uses, already validated."""

    openid: str  # FromUserName (for MASSSENDJOBFINISH: the account's mass-send assistant)
    account: str  # ToUserName
    created: datetime
    create_time: int
    kind: str  # text, image, voice, video, shortvideo, location, link, event, …
    event: str = ""  # subscribe, subscribe_scan, unsubscribe, scan, location, click, view, …
    msg_id: int | None = None  # MsgId of a message; MsgID of a job-finish event
    content: str = ""
    event_key: str = ""  # click key, scene (without ``qrscene_``), view URL
    media_id: str = ""
    pic_url: str = ""
    title: str = ""
    url: str = ""
    latitude: float | None = None
    longitude: float | None = None
    precision: float | None = None
    label: str = ""
    status: str = ""  # job-finish events
    counts: dict = field(default_factory=dict)  # MASSSENDJOBFINISH: total, filter, sent, error
    message: object = field(default=None, compare=False, repr=False)  # wechatpy's object (replies)

    @property
    def is_system(self) -> bool:
        return self.event in _SYSTEM_EVENTS

    @property
    def dedup_key(self) -> str | None:
        """What makes two deliveries "the same": ``MsgId`` for messages; sender + ``CreateTime``
        for events (WeChat's rule, plus the event name: two events of one second are different);
        ``MsgID`` for job reports. ``None`` for LOCATION reports, whose effect (newest wins) is
        idempotent anyway."""
        if self.event == "location":
            return None
        if self.event == "masssendjobfinish":
            return f"mass:{self.msg_id}"
        if self.event == "templatesendjobfinish":
            return f"tpl:{self.msg_id}"
        if self.kind == "event":
            return f"e:{self.openid}:{self.create_time}:{self.event}"
        if self.msg_id:
            return f"m:{self.msg_id}"
        return f"m:{self.openid}:{self.create_time}:{self.kind}"


def _str(data: dict, key: str, *, limit: int, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise Refused(400, f"missing {key}")
        return ""
    if not isinstance(value, str):
        raise Refused(400, f"{key} is not text")
    if len(value) > limit:
        raise Refused(400, f"{key} too long")
    return value


def _int(data: dict, key: str, *, required: bool = False) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise Refused(400, f"missing {key}")
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,20}", value.strip()):
        raise Refused(400, f"{key} is not a number")
    number = int(value)
    if number >= 2**63:
        raise Refused(400, f"{key} out of range")
    return number


def _float(data: dict, key: str, *, low: float, high: float) -> float | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Refused(400, f"{key} is not a number") from None
    if not low <= number <= high:
        raise Refused(400, f"{key} out of range")
    return number


def parse_inbound(xml: str) -> Inbound:
    """Parse WeChat's XML with wechatpy and check every field the portal reads."""
    if _DTD.search(xml.encode("utf-8", "replace")):
        raise Refused(400, "document type declaration (entities) in the body")
    try:
        message = parse_message(xml)
    except Exception as exc:  # expat errors, a body without <xml>, <MsgType> missing …
        raise Refused(400, f"malformed XML: {exc.__class__.__name__}") from None
    if message is None:
        raise Refused(400, "empty message")
    data = message._data  # wechatpy's parsed fields (xmltodict), read through the checks below
    if not isinstance(data, dict):
        raise Refused(400, "malformed message")
    openid = _str(data, "FromUserName", limit=64, required=True)
    kind = _str(data, "MsgType", limit=32, required=True).lower()
    event = (_str(data, "Event", limit=64) or "").lower() if kind == "event" else ""
    if event == "subscribe" and (data.get("EventKey") or "").startswith("qrscene_"):
        event = "subscribe_scan"  # wechatpy's own name for it; the key keeps the scene
    if event != "masssendjobfinish" and not _OPENID.match(openid):
        raise Refused(400, "FromUserName is not an openid")
    create_time = _int(data, "CreateTime", required=True)
    if create_time > 4102444800:  # 2100-01-01: nobody's clock
        raise Refused(400, "CreateTime out of range")
    fields: dict = {
        "openid": openid,
        "account": _str(data, "ToUserName", limit=64),
        "create_time": create_time,
        "created": datetime.fromtimestamp(create_time, tz=UTC),
        "kind": kind,
        "event": event,
        "message": message,
    }
    if kind == "event":
        key = _str(data, "EventKey", limit=1024)
        if event == "subscribe_scan":
            key = key.removeprefix("qrscene_")
        fields["event_key"] = key
        if event in _SYSTEM_EVENTS:
            fields["msg_id"] = _int(data, "MsgID", required=True)
            fields["status"] = _str(data, "Status", limit=255)
        if event == "masssendjobfinish":
            fields["counts"] = {
                name: _int(data, tag) or 0
                for name, tag in (
                    ("total", "TotalCount"),
                    ("filter", "FilterCount"),
                    ("sent", "SentCount"),
                    ("error", "ErrorCount"),
                )
            }
        if event == "location":
            fields["latitude"] = _float(data, "Latitude", low=-90, high=90)
            fields["longitude"] = _float(data, "Longitude", low=-180, high=180)
            fields["precision"] = _float(data, "Precision", low=0, high=1e7)
            if fields["latitude"] is None or fields["longitude"] is None:
                raise Refused(400, "LOCATION without a position")
    else:
        fields["msg_id"] = _int(data, "MsgId")
        if kind == "text":
            fields["content"] = _str(data, "Content", limit=4096)
        elif kind in ("image", "voice", "video", "shortvideo"):
            fields["media_id"] = _str(data, "MediaId", limit=256)
            fields["pic_url"] = _str(data, "PicUrl", limit=1024)
            fields["content"] = _str(data, "Recognition", limit=4096)
        elif kind == "location":
            fields["latitude"] = _float(data, "Location_X", low=-90, high=90)
            fields["longitude"] = _float(data, "Location_Y", low=-180, high=180)
            fields["precision"] = _float(data, "Scale", low=0, high=1e7)
            fields["label"] = _str(data, "Label", limit=512)
            if fields["latitude"] is None or fields["longitude"] is None:
                raise Refused(400, "location message without a position")
        elif kind == "link":
            fields["title"] = _str(data, "Title", limit=512)
            fields["content"] = _str(data, "Description", limit=4096)
            fields["url"] = _str(data, "Url", limit=1024)
    return Inbound(**fields)


# --- Webhook: answering -----------------------------------------------------------------------------


def text_reply(inbound: Inbound, content: str) -> TextReply:
    return TextReply(message=inbound.message, content=content)


def article_reply(inbound: Inbound, *, title: str, description: str = "", url: str = "", image: str = ""):
    """One article: WeChat shows only one in answer to a user's message."""
    return ArticlesReply(
        message=inbound.message,
        articles=[{"title": title, "description": description, "url": url, "image": image}],
    )


def image_reply(inbound: Inbound, media_id: str) -> ImageReply:
    return ImageReply(message=inbound.message, media_id=media_id)


def render_reply(reply: BaseReply | str | None, query) -> tuple[bytes, str]:
    """The HTTP body for ``reply``: its XML (encrypted in safe mode, with the request's nonce) or,
    with nothing to say, ``success`` (WeChat then stops retrying and shows nothing)."""
    xml = reply.render() if isinstance(reply, BaseReply) else (reply or "")
    if isinstance(reply, EmptyReply) or not xml:
        return b"success", "text/plain; charset=utf-8"
    if query.get("encrypt_type") == "aes" and is_safe_mode():
        xml = _crypto().encrypt_message(xml, query.get("nonce") or "", str(int(time.time())))
    return xml.encode("utf-8"), "application/xml; charset=utf-8"


# --- Outgoing: customer-service and template messages -----------------------------------------------


def send_template_message(*, openid: str, template_id: str, data: dict, url: str | None = None) -> int | None:
    """Send one template message to a follower; the ``msgid`` WeChat gives it (its
    ``TEMPLATESENDJOBFINISH`` event reports the outcome under that id).

    ``data`` maps the template's keys to values (``{"thing1": "会议提醒", …}``; a value may also be
    WeChat's own ``{"value": …, "color": …}``). Raises ``WeChatError`` with WeChat's ``errcode``
    when WeChat refuses (43004: the user does not follow the account; 40037: no such template) and
    ``WeChatUnavailable`` when it cannot be reached.
    """
    payload = {key: value if isinstance(value, dict) else {"value": value} for key, value in data.items()}
    result = _call(
        "template message", lambda c: c.message.send_template(openid, template_id, payload, url=url)
    )
    msgid = result.get("msgid") if isinstance(result, dict) else None
    return int(msgid) if msgid is not None else None


def send_text(*, openid: str, content: str) -> None:
    """A customer-service text (links as ``<a href="…">…</a>``). Only within 48 hours of the
    follower's last message (45015 otherwise)."""
    _call("customer-service text", lambda c: c.message.send_text(openid, content))


def send_image(*, openid: str, media_id: str) -> None:
    _call("customer-service image", lambda c: c.message.send_image(openid, media_id))


def send_voice(*, openid: str, media_id: str) -> None:
    _call("customer-service voice", lambda c: c.message.send_voice(openid, media_id))


def send_video(*, openid: str, media_id: str, title: str = "", description: str = "") -> None:
    _call(
        "customer-service video",
        lambda c: c.message.send_video(
            openid, media_id, title=title or None, description=description or None
        ),
    )


def send_music(
    *, openid: str, url: str, hq_url: str, thumb_media_id: str, title: str = "", description: str = ""
) -> None:
    _call(
        "customer-service music",
        lambda c: c.message.send_music(
            openid, url, hq_url or url, thumb_media_id, title=title or None, description=description or None
        ),
    )


def send_news(*, openid: str, articles: list[dict]) -> None:
    """A customer-service news message: one article (``title``, ``description``, ``url``,
    ``image``), as WeChat now shows only one."""
    _call("customer-service news", lambda c: c.message.send_articles(openid, articles))


_SENDERS = {
    "text": lambda openid, p: send_text(openid=openid, content=p["content"]),
    "image": lambda openid, p: send_image(openid=openid, media_id=p["media_id"]),
    "voice": lambda openid, p: send_voice(openid=openid, media_id=p["media_id"]),
    "video": lambda openid, p: send_video(
        openid=openid, media_id=p["media_id"], title=p.get("title", ""), description=p.get("description", "")
    ),
    "music": lambda openid, p: send_music(
        openid=openid,
        url=p["url"],
        hq_url=p.get("hq_url", ""),
        thumb_media_id=p["thumb_media_id"],
        title=p.get("title", ""),
        description=p.get("description", ""),
    ),
    "news": lambda openid, p: send_news(
        openid=openid,
        articles=[
            {
                "title": p["title"],
                "description": p.get("description", ""),
                "url": p.get("url", ""),
                "image": p.get("image", ""),
            }
        ],
    ),
}
CUSTOMER_SERVICE_KINDS = tuple(_SENDERS)


def send_customer_service(*, openid: str, kind: str, payload: dict) -> None:
    """Send one customer-service message of ``kind`` (one of ``CUSTOMER_SERVICE_KINDS``)."""
    _SENDERS[kind](openid, payload)


# --- Outgoing: menu, QR codes, tags, mass sends, users -----------------------------------------------


def menu_create(*, menu: dict) -> None:
    _call("menu create", lambda c: c.menu.create(menu))


def qrcode_create(*, scene: str, expire_seconds: int | None = None) -> tuple[str, str]:
    """A parametric QR code for ``scene`` (a string of 1–64 characters): permanent without
    ``expire_seconds`` (up to 100 000 per account), else temporary (≤ 30 days). Returns
    ``(ticket, url)``: ``url`` is what the QR code encodes."""
    data: dict = {"action_info": {"scene": {"scene_str": scene}}}
    if expire_seconds:
        data.update(action_name="QR_STR_SCENE", expire_seconds=expire_seconds)
    else:
        data["action_name"] = "QR_LIMIT_STR_SCENE"
    result = _call("QR code create", lambda c: c.qrcode.create(data))
    if not result.get("ticket") or not result.get("url"):
        raise WeChatUnavailable(UNREACHABLE)
    return result["ticket"], result["url"]


def tag_list() -> list[dict]:
    """The account's tags: ``[{"id", "name", "count"}]``."""
    # tags/get through the client itself: wechatpy's tag.get() unwraps the list, and an answer
    # that is not a JSON object is what the shared error mapping refuses.
    tags = _call("tag list", lambda c: c.get("tags/get")).get("tags")
    return tags if isinstance(tags, list) else []


def tag_create(*, name: str) -> int:
    return int(_call("tag create", lambda c: c.tag.create(name))["id"])


def tag_update(*, tag_id: int, name: str) -> None:
    _call("tag update", lambda c: c.tag.update(tag_id, name))


def tag_delete(*, tag_id: int) -> None:
    _call("tag delete", lambda c: c.tag.delete(tag_id))


TAG_BATCH = 50  # batchtagging / batchuntagging take at most 50 openids


def tag_members_add(*, tag_id: int, openids: list[str]) -> None:
    for start in range(0, len(openids), TAG_BATCH):
        batch = list(openids[start : start + TAG_BATCH])
        _call("tag members add", lambda c, batch=batch: c.tag.tag_user(tag_id, batch))


def tag_members_remove(*, tag_id: int, openids: list[str]) -> None:
    for start in range(0, len(openids), TAG_BATCH):
        batch = list(openids[start : start + TAG_BATCH])
        _call("tag members remove", lambda c, batch=batch: c.tag.untag_user(tag_id, batch))


def mass_send(
    *,
    kind: str,
    content: str = "",
    media_id: str = "",
    client_msg_id: str,
    to_all: bool = False,
    tag_id: int | None = None,
    openids: list[str] | None = None,
) -> tuple[int | None, int | None]:
    """One mass send (群发) of ``kind`` text / image / mpnews, to everyone, one tag or a list of
    2–10 000 openids. ``client_msg_id`` makes a repeat of the same send refused by WeChat (45065)
    instead of delivered twice. Returns ``(msg_id, msg_data_id)``."""
    body = {"text": {"content": content}} if kind == "text" else {kind: {"media_id": media_id}}
    data = {"msgtype": kind, "send_ignore_reprint": 0, "clientmsgid": client_msg_id, **body}
    if openids is not None:
        data["touser"] = list(openids)
        result = _call("mass send", lambda c: c.post("message/mass/send", data=data))
    else:
        # wechatpy 1.8 still names the filter's id ``group_id`` (the old groups API); tags need
        # ``tag_id``, so the request is written here and sent through wechatpy's client.
        data["filter"] = {"is_to_all": True} if to_all else {"is_to_all": False, "tag_id": tag_id}
        result = _call("mass send", lambda c: c.post("message/mass/sendall", data=data))
    msg_id, data_id = result.get("msg_id"), result.get("msg_data_id")
    return (int(msg_id) if msg_id is not None else None, int(data_id) if data_id is not None else None)


def user_info(*, openid: str) -> dict:
    """A follower's profile (``subscribe``, ``unionid`` when the account is in an open platform)."""
    return _call("user info", lambda c: c.user.get(openid))


# --- Page OAuth (网页授权) ---------------------------------------------------------------------------


class _OAuth(WeChatOAuth):
    def __init__(self, redirect_uri: str, state: str = ""):
        super().__init__(
            settings.WECHAT_OFFICIAL_APP_ID,
            settings.WECHAT_OFFICIAL_APP_SECRET,
            redirect_uri,
            scope="snsapi_base",
            state=state,
        )
        self._http = TimeoutSession(settings.WECHAT_TIMEOUT)
        self.API_BASE_URL = settings.WECHAT_API_BASE_URL.rstrip("/") + "/"


@dataclass(frozen=True)
class OAuthIdentity:
    openid: str
    unionid: str | None
    is_snapshotuser: bool


def oauth_authorize_url(*, redirect_uri: str, state: str) -> str:
    """Where to send the browser: WeChat asks nothing (``snsapi_base``) and comes back to
    ``redirect_uri`` with ``code`` and ``state``."""
    _require_enabled()
    return _OAuth(redirect_uri, state).authorize_url


def oauth_exchange(*, code: str) -> OAuthIdentity:
    """Turn the single-use ``code`` (valid 5 minutes) into the follower's openid."""
    _require_enabled()
    oauth = _OAuth("")
    try:
        result = oauth.fetch_access_token(code)
    except WeChatOAuthException as exc:
        if exc.errcode is None:
            raise WeChatUnavailable(UNREACHABLE) from exc
        logger.info("WeChat OAuth refused: errcode=%s errmsg=%s", exc.errcode, exc.errmsg)
        raise WeChatError("微信授权已失效，请重新打开页面。", errcode=exc.errcode) from exc
    except (requests.RequestException, ValueError) as exc:
        raise WeChatUnavailable(UNREACHABLE) from exc
    except KeyError as exc:  # an answer without openid / access_token
        raise WeChatError("微信授权已失效，请重新打开页面。") from exc
    openid = result.get("openid")
    if not isinstance(openid, str) or not _OPENID.match(openid):
        raise WeChatError("微信授权已失效，请重新打开页面。")
    return OAuthIdentity(
        openid=openid,
        unionid=result.get("unionid") or None,
        is_snapshotuser=str(result.get("is_snapshotuser", "0")) == "1",
    )
