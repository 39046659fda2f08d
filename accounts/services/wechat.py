"""The WeChat account bound to a user: exchanging a ``wx.login()`` code, binding and unbinding."""

import logging

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

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
    if unionid_move(user=user, unionid=session.unionid):
        fields.append("wechat_unionid")
    if user.claimed_at is None:  # the owner proved the password and bound WeChat: claimed
        user.claimed_at = timezone.now()
        fields.append("claimed_at")
    user.save(update_fields=fields)
    official_follower_link(user=user)
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


def unionid_move(*, user: User, unionid: str | None) -> bool:
    """Give the WeChat ``unionid`` code2session answered to ``user`` (unsaved), taking it from
    anyone else who had it (it follows the openid: the same WeChat person). Returns whether the
    user's field changed; no unionid (a mini-program outside an open platform) changes nothing."""
    unionid = (unionid or "")[:64]
    if not unionid or user.wechat_unionid == unionid:
        return False
    previous = list(
        User.objects.select_for_update()
        .filter(wechat_unionid=unionid)
        .exclude(pk=user.pk)
        .values_list("pk", flat=True)
    )
    if previous:
        User.objects.filter(pk__in=previous).update(wechat_unionid=None)
        logger.info("WeChat unionid moved from user(s) %s to user %s", previous, user.pk)
    user.wechat_unionid = unionid
    return True


@transaction.atomic
def user_record_unionid(*, user: User, unionid: str | None) -> None:
    """A mini-program login learnt the user's unionid: stored (if new) and the official account's
    follower of the same person bound to the user, when both are free (``official_follower_link``)."""
    if unionid and user.wechat_unionid != unionid[:64]:
        user = User.objects.select_for_update().get(pk=user.pk)
        if unionid_move(user=user, unionid=unionid):
            user.save(update_fields=["wechat_unionid"])
    official_follower_link(user=user)


def official_follower_link(*, user: User) -> None:
    """The official account (issue 19), when installed, binds the follower whose unionid is the
    user's; it never takes a follower bound to someone else."""
    if user.wechat_unionid and apps.is_installed("official"):
        import_string("official.services.follower_link_unionid")(user=user)


@transaction.atomic
def user_unbind_wechat(*, user: User, token: AuthToken | None) -> User:
    """Log this device out (its token only) and unbind WeChat from the account."""
    if token is not None:
        token_revoke(token=token)
    user.wechat_openid = None
    user.save(update_fields=["wechat_openid"])
    return user
