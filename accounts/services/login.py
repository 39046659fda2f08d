"""Logging in: with 工号/学号 and password, or with a WeChat ``wx.login()`` code."""

from django.contrib.auth import authenticate
from django.utils import timezone

from wechathhu.core.errors import NON_FIELD_ERRORS, ApplicationError

from ..errors import AccountsErrorCode as Code
from ..models import AuthToken, User
from .tokens import token_issue
from .wechat import wechat_session

LOGIN_FAILED = "无法使用提供的认证信息登录。"
AWAITING_APPROVAL = "您的注册申请正在等待管理员审核，审核通过后即可登录。"
WECHAT_NOT_BOUND = "该微信尚未绑定账号，请先使用工号和密码登录。"


def user_check_password(*, username: str, password: str, request=None) -> User:
    """The active user these credentials prove, with ``last_login`` set; refused with the login
    message otherwise (or that a sign-up still waits for approval). Every password login — a
    token for the API, a session for the pages — goes through here."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        pending = User.objects.filter(username=username, is_active=False, awaiting_approval=True).first()
        if pending is not None and pending.check_password(password):
            raise ApplicationError(AWAITING_APPROVAL, field=NON_FIELD_ERRORS, code=Code.AWAITING_APPROVAL)
        raise ApplicationError(LOGIN_FAILED, field=NON_FIELD_ERRORS, code=Code.LOGIN_FAILED)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now(), last_login_ip=client_ip(request))
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
    user = user_check_password(username=username, password=password, request=request)
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
    return token_issue(user=user, device=device, device_id=device_id)
