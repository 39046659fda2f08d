"""The WeChat account bound to a user: exchanging a ``wx.login()`` code, binding and unbinding."""

import logging

from django.db import transaction
from django.utils import timezone

from wechathhu.core.errors import ApplicationError
from wechathhu.integrations import wechat

from ..errors import AccountsErrorCode as Code
from ..models import AuthToken, User
from .tokens import token_revoke

logger = logging.getLogger(__name__)


def wechat_session(code: str) -> wechat.WeChatSession:
    """Exchange a ``wx.login()`` code for the WeChat session (openid); WeChat's failures become
    ``ApplicationError``: 503 when WeChat is off or unreachable, 400 when it refuses the code."""
    try:
        return wechat.code_to_session(code)
    except wechat.WeChatDisabled:
        raise ApplicationError(
            "未配置微信登录，请使用工号和密码登录。", status=503, code=Code.WECHAT_DISABLED
        )
    except wechat.WeChatUnavailable as exc:
        raise ApplicationError(str(exc), status=503, code=Code.WECHAT_UNAVAILABLE)
    except wechat.WeChatError as exc:
        raise ApplicationError(str(exc), code=Code.WECHAT_ERROR)


@transaction.atomic
def user_bind_wechat(*, user: User, code: str) -> User:
    """Bind the WeChat account behind ``code`` to ``user``; it leaves any other user it was on."""
    session = wechat_session(code)
    openid_move(user=user, openid=session.openid)
    fields = ["wechat_openid"]
    if user.claimed_at is None:  # the owner proved the password and bound WeChat: claimed
        user.claimed_at = timezone.now()
        fields.append("claimed_at")
    user.save(update_fields=fields)
    return user


def openid_move(*, user: User, openid: str) -> None:
    """Give ``openid`` to ``user`` (unsaved), taking it from anyone else who had it."""
    previous = list(
        User.objects.select_for_update()
        .filter(wechat_openid=openid)
        .exclude(pk=user.pk)
        .values_list("pk", flat=True)
    )
    if previous:
        User.objects.filter(pk__in=previous).update(wechat_openid=None)
        logger.info("WeChat openid moved from user(s) %s to user %s", previous, user.pk)
    user.wechat_openid = openid


@transaction.atomic
def user_unbind_wechat(*, user: User, token: AuthToken | None) -> User:
    """Log this device out (its token only) and unbind WeChat from the account."""
    if token is not None:
        token_revoke(token=token)
    user.wechat_openid = None
    user.save(update_fields=["wechat_openid"])
    return user
