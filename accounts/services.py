"""Writes for accounts: users, their profile and directory card, logins and devices."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from wechathhu.core.errors import ApplicationError, NotFound
from wechathhu.integrations import wechat

from .models import AuthToken, Friendship, User
from .pinyin import name_keys

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("first_name", "last_name", "email", "department")
CARD_FIELDS = ("post", "qq", "wechat", "tel", "phone", "description")
VISIBILITY_FIELDS = tuple(
    f"{field}_visibility" for field in ("post", "tel", "email", "phone", "qq", "wechat")
)

LOGIN_FAILED = "无法使用提供的认证信息登录。"
WECHAT_NOT_BOUND = "该微信尚未绑定账号，请先使用工号和密码登录。"


def user_refresh_name_keys(user: User) -> None:
    """Recompute the pinyin search and sort keys from the name (no save)."""
    keys = name_keys(user.last_name, user.first_name)
    user.name_pinyin, user.name_initials, user.alpha = keys.pinyin, keys.initials, keys.alpha


@transaction.atomic
def user_create(*, username: str, password: str | None = None, **fields) -> User:
    """Create a user. Without a password the account cannot log in until one is set."""
    user = User(username=username, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user_refresh_name_keys(user)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, data: dict, fields=PROFILE_FIELDS + CARD_FIELDS + VISIBILITY_FIELDS) -> User:
    """Update profile, card and visibility fields present in ``data``; names also refresh the
    pinyin keys."""
    for field in fields:
        if field in data:
            value = data[field]
            if value is None and field in VISIBILITY_FIELDS:
                continue
            if value is None and field != "department":
                value = ""
            setattr(user, field, value)
    user_refresh_name_keys(user)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def user_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """Set a new password; the current one must be given (a stolen token is not enough)."""
    if not user.check_password(old_password or ""):
        raise ApplicationError("当前密码不正确。", field="old_password")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages})
    user.set_password(new_password)
    user.save(update_fields=["password"])


# --- Tokens ---------------------------------------------------------------------------------------


def _idle_cutoff():
    return timezone.now() - timedelta(seconds=settings.TOKEN_IDLE_TIMEOUT)


@transaction.atomic
def token_issue(*, user: User, device: str) -> tuple[AuthToken, bool]:
    """The token of this user on this device: the live one refreshed, or a new one.

    Returns ``(token, created)``. Other devices' tokens are untouched; this user's expired
    tokens are cleared on the way.
    """
    device = (device or "")[:255]
    now = timezone.now()
    AuthToken.objects.filter(user=user, last_used_at__lt=_idle_cutoff()).delete()
    token = (
        AuthToken.objects.select_for_update()
        .filter(user=user, device=device)
        .order_by("-last_used_at")
        .first()
    )
    if token is not None:
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
        return token, False
    return AuthToken.objects.create(user=user, device=device, last_used_at=now), True


def token_revoke(*, token: AuthToken) -> None:
    AuthToken.objects.filter(pk=token.pk).delete()


def user_login_with_password(
    *, username: str, password: str, device: str, request=None
) -> tuple[AuthToken, bool]:
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise ApplicationError(LOGIN_FAILED, field="non_field_errors")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return token_issue(user=user, device=device)


def user_login_with_wechat_code(*, code: str, device: str) -> tuple[AuthToken, bool]:
    session = _wechat_session(code)
    user = User.objects.filter(wechat_openid=session.openid, is_active=True).first()
    if user is None:
        raise ApplicationError(WECHAT_NOT_BOUND)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return token_issue(user=user, device=device)


def _wechat_session(code: str) -> wechat.WeChatSession:
    try:
        return wechat.code_to_session(code)
    except wechat.WeChatDisabled:
        raise ApplicationError("未配置微信登录，请使用工号和密码登录。", status=503, code="wechat_disabled")
    except wechat.WeChatUnavailable as exc:
        raise ApplicationError(str(exc), status=503, code="wechat_unavailable")
    except wechat.WeChatError as exc:
        raise ApplicationError(str(exc), code="wechat_error")


@transaction.atomic
def user_bind_wechat(*, user: User, code: str) -> User:
    """Bind the WeChat account behind ``code`` to ``user``; it leaves any other user it was on."""
    session = _wechat_session(code)
    previous = list(
        User.objects.select_for_update()
        .filter(wechat_openid=session.openid)
        .exclude(pk=user.pk)
        .values_list("pk", flat=True)
    )
    if previous:
        User.objects.filter(pk__in=previous).update(wechat_openid=None)
        logger.info("WeChat openid moved from user(s) %s to user %s", previous, user.pk)
    user.wechat_openid = session.openid
    user.save(update_fields=["wechat_openid"])
    return user


@transaction.atomic
def user_unbind_wechat(*, user: User, token: AuthToken | None) -> User:
    """Log this device out (its token only) and unbind WeChat from the account."""
    if token is not None:
        token_revoke(token=token)
    user.wechat_openid = None
    user.save(update_fields=["wechat_openid"])
    return user


# --- Friends --------------------------------------------------------------------------------------

FRIEND_SELF = "不能添加自己为好友。"
FRIEND_EXISTS = "已存在该好友关系。"


def friendship_create(*, user: User, friend: User) -> Friendship:
    """``user`` adds ``friend`` to their contacts. Adding oneself or adding twice is refused."""
    if user.pk == friend.pk:
        raise ApplicationError(FRIEND_SELF)
    friendship = Friendship(user=user, friend=friend)
    friendship.full_clean(validate_unique=False, validate_constraints=False)
    try:
        # The unique constraint decides, so two simultaneous adds cannot both succeed.
        with transaction.atomic():
            friendship.save()
    except IntegrityError:
        raise ApplicationError(FRIEND_EXISTS)
    return friendship


@transaction.atomic
def friendship_delete(*, user: User, friend: User) -> None:
    """``user`` removes ``friend`` from their contacts; 404 when they were not friends."""
    deleted, _ = Friendship.objects.filter(user=user, friend=friend).delete()
    if not deleted:
        raise NotFound()
