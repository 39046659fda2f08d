"""The only module that talks to WeChat.

It uses wechatpy, pointed at ``settings.WECHAT_API_BASE_URL`` (the real API by default, a local
fake in tests and staging), with a timeout on every call. wechatpy's access token is kept in
Django's cache (Redis in a full deployment), so every worker shares one token.
"""

import logging
import re
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from wechathhu.api.exceptions import is_cache_outage

logger = logging.getLogger(__name__)


class WeChatError(Exception):
    """WeChat refused a call or could not be reached. ``errcode`` is WeChat's own code, if any."""

    def __init__(self, message: str, *, errcode: int | None = None):
        super().__init__(message)
        self.errcode = errcode


class WeChatDisabled(WeChatError):
    """No WeChat credentials are configured."""


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached or did not answer in time."""


WECHAT_UNREACHABLE = "暂时无法连接微信服务器，请稍后重试。"
CODE_REFUSED = "微信登录凭证无效或已过期，请重试。"
# What wechatpy raises when WeChat answers something it does not document: the access-token
# fetch without a token or with a list, a non-numeric errcode. Not WeChat's verdict on the
# request, so the caller is told to try again (503), never a 500.
UNEXPECTED_ANSWER = (KeyError, TypeError, ValueError)
# An openid as WeChat issues them (28 characters of base64url), bounded by the column.
OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    unionid: str | None = None


class DjangoCacheStorage(SessionStorage):
    """wechatpy session storage on Django's cache, shared by every process.

    If the cache is down, WeChat still works: the access token is fetched again (a miss).
    """

    prefix = "wechatpy:"

    def get(self, key, default=None):
        try:
            return cache.get(self.prefix + key, default)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise
            logger.warning("WeChat token cache unavailable: %r", exc)
            return default

    def set(self, key, value, ttl=None):
        try:
            cache.set(self.prefix + key, value, timeout=ttl)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise
            logger.warning("WeChat token cache unavailable: %r", exc)

    def delete(self, key):
        try:
            cache.delete(self.prefix + key)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise


class TimeoutSession(requests.Session):
    """A requests session that never waits forever: wechatpy's token fetch passes no timeout."""

    def __init__(self, timeout: float):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, **kwargs)


class PortalWeChatClient(WeChatClient):
    """wechatpy's client, with a configurable base URL and a timeout on the token fetch too.

    wechatpy's own retry on an expired token has no bound (WeChat answering 40001 forever would
    recurse until the stack ends), so it is off: :func:`call` refreshes the token once instead.
    """

    def __init__(self, *args, base_url: str, **kwargs):
        kwargs.setdefault("auto_retry", False)
        super().__init__(*args, **kwargs)
        self._http = TimeoutSession(self.timeout)
        self.base_url = base_url.rstrip("/") + "/"
        self.API_BASE_URL = self.base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = self.base_url

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def get_client() -> PortalWeChatClient:
    if not settings.WECHAT_ENABLED:
        raise WeChatDisabled("未配置微信登录。")
    return PortalWeChatClient(
        settings.WECHAT_APP_ID,
        settings.WECHAT_APP_SECRET,
        session=DjangoCacheStorage(),
        timeout=settings.WECHAT_TIMEOUT,
        base_url=settings.WECHAT_API_BASE_URL,
    )


# Access-token errors: the cached token is stale (another process fetched a new one, or it
# expired early); a fresh token and one more try fix them.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
UNREACHABLE = "暂时无法连接微信服务器，请稍后重试。"


def call(client: WeChatClient, request, *, what: str):
    """Make one WeChat API call (``request(client)``) with the error mapping every caller shares.

    Returns WeChat's answer (a dict). Raises ``WeChatError`` with WeChat's ``errcode`` when WeChat
    refuses, and ``WeChatUnavailable`` when it cannot be reached, answers an HTTP error status, or
    answers something that is not a JSON object. A stale access token is refreshed once.
    """
    for attempt in (1, 2):
        try:
            result = request(client)
        except WeChatClientException as exc:
            if exc.errcode in TOKEN_ERRCODES and attempt == 1:
                logger.info("WeChat %s: access token refused (%s); fetching a new one", what, exc.errcode)
                client.session.delete(client.access_token_key)
                continue
            if exc.errcode is None:  # an HTTP error status (5xx, a proxy's 4xx): not WeChat's verdict
                status = getattr(exc.response, "status_code", None)
                logger.warning("WeChat %s answered HTTP %s", what, status)
                raise WeChatUnavailable(UNREACHABLE, errcode=None)
            logger.info("WeChat %s refused: errcode=%s errmsg=%s", what, exc.errcode, exc.errmsg)
            raise WeChatError(str(exc.errmsg or exc.errcode), errcode=exc.errcode)
        except requests.RequestException as exc:
            logger.warning("WeChat %s unreachable: %r", what, exc)
            raise WeChatUnavailable(UNREACHABLE)
        except UNEXPECTED_ANSWER as exc:  # e.g. the access-token fetch answered without a token
            logger.warning("WeChat %s: an answer wechatpy could not read (%r)", what, exc)
            raise WeChatUnavailable(UNREACHABLE)
        if not isinstance(result, dict):
            logger.warning("WeChat %s answered something that is not JSON: %r", what, result)
            raise WeChatUnavailable(UNREACHABLE)
        return result
    raise WeChatUnavailable(UNREACHABLE)  # pragma: no cover - the loop always returns or raises


def code_to_session(code: str) -> WeChatSession:
    """Exchange a ``wx.login()`` code for the user's openid (code2session)."""
    client = get_client()
    try:
        result = client.wxa.code_to_session(code)
    except WeChatClientException as exc:
        if exc.errcode is None:  # an HTTP error status (5xx, a proxy's 4xx): not WeChat's verdict
            logger.warning("WeChat code2session answered HTTP %s", getattr(exc.response, "status_code", None))
            raise WeChatUnavailable(WECHAT_UNREACHABLE)
        logger.warning("WeChat code2session refused: errcode=%s errmsg=%s", exc.errcode, exc.errmsg)
        raise WeChatError(CODE_REFUSED, errcode=exc.errcode)
    except requests.RequestException as exc:
        logger.warning("WeChat code2session unreachable: %r", exc)
        raise WeChatUnavailable(WECHAT_UNREACHABLE)
    except UNEXPECTED_ANSWER as exc:
        logger.warning("WeChat code2session: an answer wechatpy could not read (%r)", exc)
        raise WeChatUnavailable(WECHAT_UNREACHABLE)
    openid = result.get("openid") if isinstance(result, dict) else None
    if not isinstance(openid, str) or not OPENID.fullmatch(openid):
        logger.warning("WeChat code2session answered without a usable openid: %r", result)
        raise WeChatUnavailable(WECHAT_UNREACHABLE)
    unionid = result.get("unionid")
    return WeChatSession(openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None)


def send_subscribe_message(*, openid: str, template_id: str, data: dict, page: str | None = None) -> None:
    """Send one mini-program subscribe message (subscribeMessage.send) to one user.

    ``data`` maps the template's keys to values (``{"thing1": "会议提醒", …}``); WeChat limits
    ``thing`` values to 20 characters. Raises ``WeChatError`` with WeChat's ``errcode`` when WeChat
    refuses (43101: the user has no subscription left; 47003: a value is invalid), and
    ``WeChatUnavailable`` when it cannot be reached or answers nonsense (see :func:`call`).
    """
    payload = {key: {"value": value} for key, value in data.items()}
    call(
        get_client(),
        lambda client: client.wxa.send_subscribe_message(openid, template_id, payload, page=page),
        what="subscribe message",
    )
