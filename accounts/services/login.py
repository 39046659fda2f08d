"""Logging in: with 工号/学号 and password, or with a WeChat ``wx.login()`` code.

Every password check — the API's token login, the H5 portal's form, the admin's and the browsable
API's login pages — goes through ``user_check_password``, which alone decides: the attempt counts
against the client address's limit and the account's limit (``accounts/throttles.py``, in the cache
every process shares), whatever door it came through and however the number is spelled.

When the account's limit is reached (someone is guessing its password), the account is locked for
*unknown devices* only: the right password from a device this account logged in from before (a
browser's known-device cookie, an app's ``device_id``) still gets in, so a stranger's guessing
cannot lock the owner out. The answer says so.
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from wechathhu.api.throttling import wait_text
from wechathhu.core.errors import NON_FIELD_ERRORS, ApplicationError, RetryLaterError

from ..errors import AccountsErrorCode as Code
from ..models import AuthToken, KnownDevice, User
from ..throttles import LoginRateThrottle, LoginUsernameRateThrottle
from ..usernames import username_is_well_formed, username_normalize
from .tokens import token_issue
from .wechat import user_record_unionid, wechat_session

LOGIN_FAILED = "无法使用提供的认证信息登录。"
LOGIN_THROTTLED = "登录尝试过于频繁，请稍后再试。"
LOCKED_FOR_UNKNOWN_DEVICES = (
    "该账号近期登录失败次数过多，已暂时锁定：只有曾经登录过此账号的设备可以登录。"
    "请在您常用的设备上登录，或{wait}再试。"
)
AWAITING_APPROVAL = "您的注册申请正在等待管理员审核，审核通过后即可登录。"
WECHAT_NOT_BOUND = "该微信尚未绑定账号，请先使用工号和密码登录。"

# A device id shorter than this is too easy to guess to count as a known device (a UUID is 36).
KNOWN_DEVICE_ID_MIN_LENGTH = 16
# The request attribute through which a browser login asks for its known-device cookie
# (set on the response by accounts.middleware.KnownDeviceCookieMiddleware).
KNOWN_DEVICE_COOKIE_REQUEST_ATTR = "known_device_cookie"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _http_request(request):
    """The Django request behind a DRF one (attributes set here reach the middleware)."""
    return getattr(request, "_request", request)


def _device_keys(*, request, device_id: str, browser: bool) -> list[str]:
    """The secrets this client proves its device with: an app's own id (long enough to be one),
    a browser's known-device cookie."""
    keys = []
    if device_id and len(device_id) >= KNOWN_DEVICE_ID_MIN_LENGTH:
        keys.append(f"app:{device_id}")
    if browser and request is not None:
        cookie = request.COOKIES.get(settings.ACCOUNTS_KNOWN_DEVICE_COOKIE, "")
        if 32 <= len(cookie) <= 128:
            keys.append(f"browser:{cookie}")
    return keys


def _device_known(user: User, keys: list[str]) -> bool:
    return (
        bool(keys)
        and KnownDevice.objects.filter(user=user, key_hash__in=[_key_hash(k) for k in keys]).exists()
    )


def _device_remember(*, user: User, request, device_id: str, browser: bool) -> None:
    """Remember the device of a successful login; a browser without the cookie gets one."""
    keys = _device_keys(request=request, device_id=device_id, browser=browser)
    if browser and request is not None and not any(k.startswith("browser:") for k in keys):
        cookie = secrets.token_urlsafe(32)
        keys.append(f"browser:{cookie}")
        setattr(_http_request(request), KNOWN_DEVICE_COOKIE_REQUEST_ATTR, cookie)
    now = timezone.now()
    for key in keys:
        KnownDevice.objects.update_or_create(
            user=user, key_hash=_key_hash(key), defaults={"last_login_at": now}
        )


def _attempt_wait(throttle, request) -> float | None:
    """Count this attempt; ``None`` when within the limit, else the seconds until it is not."""
    if throttle.allow_request(request, None):
        return None
    return throttle.wait() or 1


def user_check_password(
    *, username: str, password: str, request=None, device_id: str = "", browser: bool = False
) -> User:
    """The active user these credentials prove, with ``last_login`` set; refused with the login
    message otherwise (or that a sign-up still waits for approval).

    Every password login goes through here and is counted: per client address (``request``, when
    given) and per account. Beyond the address's limit: 429. Beyond the account's: 429 saying the
    account is locked for unknown devices, unless the password is right and the device is known
    (``device_id`` of an app, the known-device cookie of a ``browser``). A successful login
    remembers its device (a browser without the cookie is given one).
    """
    username = username_normalize(username)
    if request is not None:
        wait = _attempt_wait(LoginRateThrottle(), request)
        if wait is not None:
            raise RetryLaterError(LOGIN_THROTTLED, wait=wait, code=Code.LOGIN_THROTTLED)
    account_wait = _attempt_wait(LoginUsernameRateThrottle(username), request)
    user = authenticate(request, username=username, password=password)
    if account_wait is not None and (
        user is None
        or not user.is_active
        or not _device_known(user, _device_keys(request=request, device_id=device_id, browser=browser))
    ):
        raise RetryLaterError(
            LOCKED_FOR_UNKNOWN_DEVICES.format(wait=wait_text(account_wait)),
            wait=account_wait,
            code=Code.LOCKED_FOR_UNKNOWN_DEVICES,
        )
    if user is None or not user.is_active:
        pending = (
            User.objects.filter(username__iexact=username, is_active=False, awaiting_approval=True).first()
            if username_is_well_formed(username)
            else None
        )
        if pending is not None and pending.check_password(password):
            raise ApplicationError(AWAITING_APPROVAL, field=NON_FIELD_ERRORS, code=Code.AWAITING_APPROVAL)
        raise ApplicationError(LOGIN_FAILED, field=NON_FIELD_ERRORS, code=Code.LOGIN_FAILED)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now(), last_login_ip=client_ip(request))
    _device_remember(user=user, request=request, device_id=device_id, browser=browser)
    return user


def client_ip(request) -> str | None:
    """The address a login comes from (seed 004's ``login_ip``); the proxy in front of the site
    sets ``REMOTE_ADDR`` (deploy/)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def user_login_with_password(
    *, username: str, password: str, device: str, device_id: str = "", request=None
) -> tuple[AuthToken, bool]:
    """Log in with 工号/学号 and password; returns this device's ``(token, created)``."""
    user = user_check_password(username=username, password=password, request=request, device_id=device_id)
    return token_issue(user=user, device=device, device_id=device_id)


def user_login_with_wechat_code(
    *, code: str, device: str, device_id: str = "", request=None
) -> tuple[AuthToken, bool]:
    """Log in with a ``wx.login()`` code; the WeChat account must be bound to an active user."""
    session = wechat_session(code)
    user = User.objects.filter(wechat_openid=session.openid, is_active=True).first()
    if user is None:
        raise ApplicationError(WECHAT_NOT_BOUND, code=Code.WECHAT_NOT_BOUND)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now(), last_login_ip=client_ip(request))
    if session.unionid or user.wechat_unionid:
        user_record_unionid(user=user, unionid=session.unionid)
    return token_issue(user=user, device=device, device_id=device_id)
