"""Writes for accounts: users, their profile and directory card, logins and devices."""

import hashlib
import hmac
import io
import logging
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image, ImageOps

from wechathhu.core.errors import ApplicationError, NotFound, PermissionDenied
from wechathhu.core.images import InvalidImage, open_image
from wechathhu.core.services import model_update
from wechathhu.integrations import wechat

from .models import AuthToken, CampusGroup, ClaimCode, Friendship, GroupMembership, User, UserKind
from .pinyin import name_keys

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("first_name", "last_name", "email", "department")
CARD_FIELDS = ("post", "qq", "wechat", "tel", "phone", "description")
VISIBILITY_FIELDS = tuple(
    f"{field}_visibility" for field in ("post", "tel", "email", "phone", "qq", "wechat")
)

LOGIN_FAILED = "无法使用提供的认证信息登录。"
AWAITING_APPROVAL = "您的注册申请正在等待管理员审核，审核通过后即可登录。"
WECHAT_NOT_BOUND = "该微信尚未绑定账号，请先使用工号和密码登录。"


def user_refresh_name_keys(user: User) -> None:
    """Recompute the pinyin search and sort keys from the name (no save)."""
    keys = name_keys(user.last_name, user.first_name)
    user.name_pinyin, user.name_initials, user.alpha = keys.pinyin, keys.initials, keys.alpha


def user_refresh_all_name_keys(*, batch_size: int = 1000) -> int:
    """Recompute every user's pinyin keys (after ``accounts.pinyin`` learns new readings), in
    batches; returns how many rows changed."""
    changed = 0
    last_pk = 0
    while True:
        batch = list(
            User.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "last_name", "first_name", "name_pinyin", "name_initials", "alpha")[:batch_size]
        )
        if not batch:
            return changed
        last_pk = batch[-1].pk
        stale = []
        for user in batch:
            before = (user.name_pinyin, user.name_initials, user.alpha)
            user_refresh_name_keys(user)
            if (user.name_pinyin, user.name_initials, user.alpha) != before:
                stale.append(user)
        User.objects.bulk_update(stale, ["name_pinyin", "name_initials", "alpha"])
        changed += len(stale)


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


def user_check_password(*, username: str, password: str, request=None) -> User:
    """The active user these credentials prove, with ``last_login`` set; refused with the login
    message otherwise (or that a sign-up still waits for approval). Every password login — a
    token for the API, a session for the pages — goes through here."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        pending = User.objects.filter(username=username, is_active=False, awaiting_approval=True).first()
        if pending is not None and pending.check_password(password):
            raise ApplicationError(AWAITING_APPROVAL, field="non_field_errors")
        raise ApplicationError(LOGIN_FAILED, field="non_field_errors")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


def user_login_with_password(
    *, username: str, password: str, device: str, request=None
) -> tuple[AuthToken, bool]:
    user = user_check_password(username=username, password=password, request=request)
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
    _move_openid(user=user, openid=session.openid)
    fields = ["wechat_openid"]
    if user.claimed_at is None:  # the owner proved the password and bound WeChat: claimed
        user.claimed_at = timezone.now()
        fields.append("claimed_at")
    user.save(update_fields=fields)
    return user


def _move_openid(*, user: User, openid: str) -> None:
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


# --- Groups ---------------------------------------------------------------------------------------

MEMBER_EXISTS = "该用户已是本组成员。"


def _check_can_manage(*, group: CampusGroup, by: User) -> None:
    from .selectors import group_can_manage

    if not group_can_manage(group=group, user=by):
        raise PermissionDenied("只有管理员和本组的管理者可以管理成员。")


def group_member_add(
    *, group: CampusGroup, user: User, by: User, title: str = "", is_manager: bool = False
) -> GroupMembership:
    """Add ``user`` to ``group`` with a title (班长, 主席 …). Staff and the group's managers may;
    only staff may make someone a manager."""
    _check_can_manage(group=group, by=by)
    if is_manager and not by.is_staff:
        raise PermissionDenied("只有管理员可以指定本组的管理者。")
    if not user.is_active:
        raise ApplicationError("该用户未激活，不能加入分组。", field="user")
    membership = GroupMembership(group=group, user=user, title=title, is_manager=is_manager)
    membership.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        raise ApplicationError(MEMBER_EXISTS, field="user")
    return membership


@transaction.atomic
def group_member_update(
    *, membership: GroupMembership, by: User, title: str | None = None, is_manager: bool | None = None
) -> GroupMembership:
    """Change a member's title (staff and managers) or manager flag (staff only)."""
    _check_can_manage(group=membership.group, by=by)
    if is_manager is not None and is_manager != membership.is_manager and not by.is_staff:
        raise PermissionDenied("只有管理员可以指定本组的管理者。")
    data = {key: value for key, value in (("title", title), ("is_manager", is_manager)) if value is not None}
    model_update(instance=membership, fields=("title", "is_manager"), data=data)
    return membership


@transaction.atomic
def group_member_remove(*, membership: GroupMembership, by: User) -> None:
    """Remove a member. Managers may remove ordinary members and themselves; other managers
    only staff."""
    _check_can_manage(group=membership.group, by=by)
    if membership.is_manager and membership.user_id != by.pk and not by.is_staff:
        raise PermissionDenied("只有管理员可以移除本组的其他管理者。")
    membership.delete()


@transaction.atomic
def group_add_users(*, group: CampusGroup, user_ids, title: str = "") -> int:
    """Add many users to ``group`` at once (the admin action); those already in it are left as
    they are. Returns how many were added."""
    wanted = set(User.objects.filter(pk__in=list(user_ids), is_active=True).values_list("pk", flat=True))
    present = set(
        GroupMembership.objects.filter(group=group, user_id__in=wanted).values_list("user_id", flat=True)
    )
    new = sorted(wanted - present)
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=group, user_id=pk, title=title) for pk in new],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return len(new)


# --- Claiming an imported account -----------------------------------------------------------------

CLAIM_FAILED = "认领失败：信息不匹配，或该账号已被认领。请核对工号/学号、姓名和初始密码（或认领码）。"
CLAIM_PROOF_MISSING = "请填写初始密码或认领码。"
CLAIM_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CLAIM_CODE_LENGTH = 8


def _normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def _claim_code_hash(code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"claim-code:" + _normalize_code(code).encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def claim_code_issue(*, user: User, by: User | None) -> str:
    """A new one-time claim code for ``user`` (replacing any earlier one); returns it in clear,
    the only time it is ever seen. Valid for ``ACCOUNTS_CLAIM_CODE_TTL`` seconds."""
    if user.claimed_at is not None or not user.is_active:
        raise ApplicationError(f"{user} 已被认领或未激活，无需认领码。")
    code = "".join(secrets.choice(CLAIM_CODE_ALPHABET) for _ in range(CLAIM_CODE_LENGTH))
    ClaimCode.objects.update_or_create(
        user=user,
        defaults={
            "code_hash": _claim_code_hash(code),
            "expires_at": timezone.now() + timedelta(seconds=settings.ACCOUNTS_CLAIM_CODE_TTL),
            "issued_by": by,
        },
    )
    return f"{code[:4]}-{code[4:]}"


def _names_match(user: User, name: str) -> bool:
    return "".join(user.full_name.split()) == "".join((name or "").split()) != ""


def _claim_proof_ok(user: User, *, password: str | None, claim_code: str | None) -> bool:
    if claim_code:
        stored = ClaimCode.objects.filter(user=user, expires_at__gt=timezone.now()).first()
        return stored is not None and hmac.compare_digest(stored.code_hash, _claim_code_hash(claim_code))
    if password:
        return user.check_password(password)
    return False


def user_claim(
    *,
    username: str,
    name: str,
    wechat_code: str,
    device: str,
    password: str | None = None,
    claim_code: str | None = None,
    new_password: str | None = None,
) -> tuple[AuthToken, bool]:
    """An imported account is taken over by its owner: 工号/学号 + 姓名 + the initial password (or
    a staff-issued one-time code), binding the WeChat account behind ``wechat_code`` and
    logging in. Returns ``(token, created)``.

    The WeChat code is exchanged first, so the answer never tells whether the account data
    were right before they are; every mismatch (unknown number, wrong name, wrong password or
    code, expired code, account already claimed, inactive) is the same ``CLAIM_FAILED``.
    """
    session = _wechat_session(wechat_code)
    with transaction.atomic():
        user = user_claim_account(
            username=username,
            name=name,
            password=password,
            claim_code=claim_code,
            new_password=new_password,
            openid=session.openid,
        )
        return token_issue(user=user, device=device)


@transaction.atomic
def user_claim_account(
    *,
    username: str,
    name: str,
    password: str | None = None,
    claim_code: str | None = None,
    new_password: str | None = None,
    openid: str | None = None,
) -> User:
    """The claim itself (see ``user_claim``), for every door: the mini-program binds its WeChat
    ``openid``; the H5 portal claims without one and opens a browser session. Returns the user;
    every mismatch is the same ``CLAIM_FAILED``."""
    if not password and not claim_code:
        raise ApplicationError(CLAIM_PROOF_MISSING, field="non_field_errors")
    user = User.objects.select_for_update().filter(username=(username or "").strip()).first()
    ok = (
        user is not None
        and user.is_active
        and user.claimed_at is None
        and _names_match(user, name)
        and _claim_proof_ok(user, password=password, claim_code=claim_code)
    )
    if not ok:
        if user is None and password:
            User().set_password(password)  # the same hashing time as for a real account
        raise ApplicationError(CLAIM_FAILED, field="non_field_errors")
    if new_password:
        try:
            password_validation.validate_password(new_password, user)
        except ValidationError as exc:
            raise ValidationError({"new_password": exc.messages})
        user.set_password(new_password)
    fields = ["password", "claimed_at", "last_login"]
    if openid:
        _move_openid(user=user, openid=openid)
        fields.append("wechat_openid")
    user.claimed_at = timezone.now()
    user.last_login = user.claimed_at
    user.save(update_fields=fields)
    ClaimCode.objects.filter(user=user).delete()
    logger.info("Account %s claimed", user.pk)
    return user


# --- Open registration ----------------------------------------------------------------------------

REGISTRATION_CLOSED = "本系统未开放自助注册，请使用账号认领或联系管理员。"


@transaction.atomic
def user_register(
    *,
    username: str,
    last_name: str,
    first_name: str,
    password: str,
    kind: str,
    email: str = "",
    department=None,
    school_class=None,
) -> User:
    """Sign up (only when ``ACCOUNTS_OPEN_REGISTRATION`` is on). The account stays inactive,
    ``awaiting_approval``, until staff approve it in the admin."""
    if not settings.ACCOUNTS_OPEN_REGISTRATION:
        raise ApplicationError(REGISTRATION_CLOSED, status=403, code="registration_closed")
    if kind not in (UserKind.TEACHER, UserKind.STUDENT):
        raise ApplicationError("身份只能是教师或学生。", field="kind")
    if school_class is not None and kind != UserKind.STUDENT:
        raise ApplicationError("只有学生可以选择班级。", field="school_class")
    if school_class is not None and department is None:
        department = school_class.department
    if User.objects.filter(username=username).exists():
        raise ApplicationError("该工号/学号已存在。如果这是您的账号，请使用账号认领。", field="username")
    candidate = User(username=username, last_name=last_name, first_name=first_name, email=email or "")
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages})
    return user_create(
        username=username,
        password=password,
        last_name=last_name,
        first_name=first_name,
        kind=kind,
        email=email or "",
        department=department,
        school_class=school_class,
        is_active=False,
        awaiting_approval=True,
    )


def user_approve_registrations(*, user_ids) -> int:
    """Approve sign-ups: the accounts become active. Returns how many were approved."""
    return User.objects.filter(pk__in=list(user_ids), awaiting_approval=True).update(
        is_active=True, awaiting_approval=False
    )


@transaction.atomic
def user_reject_registrations(*, user_ids) -> int:
    """Refuse sign-ups: the pending accounts are deleted (the number becomes free again)."""
    deleted, _ = User.objects.filter(pk__in=list(user_ids), awaiting_approval=True, is_active=False).delete()
    return deleted


# --- Avatar ---------------------------------------------------------------------------------------

AVATAR_NOT_IMAGE = "请上传 JPEG、PNG、GIF 或 WebP 格式的图片。"


def avatar_image_open(upload) -> Image.Image:
    """The uploaded avatar as a loaded image; a 400 ``{"avatar": [...]}`` for anything that is
    not a JPEG, PNG, GIF or WebP image within the size limits."""
    limit = settings.AVATAR_MAX_BYTES
    try:
        return open_image(upload, max_bytes=limit, max_pixels=settings.AVATAR_MAX_PIXELS)
    except InvalidImage as exc:
        if exc.code == "too_large":
            raise ApplicationError(f"头像文件不能超过 {limit / 1024 / 1024:g} MB。", field="avatar")
        if exc.code == "too_many_pixels":
            raise ApplicationError("图片尺寸过大，请上传较小的图片。", field="avatar")
        raise ApplicationError(AVATAR_NOT_IMAGE, field="avatar")


def _avatar_jpeg(image: Image.Image) -> bytes:
    """Re-encoded: orientation applied, metadata dropped, a square JPEG of ``AVATAR_SIZE`` px."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    else:
        image = image.convert("RGB")
    size = settings.AVATAR_SIZE
    image = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


@transaction.atomic
def user_set_avatar(*, user: User, upload) -> User:
    """Replace the avatar with the uploaded image, re-encoded (a non-image or a file over
    ``AVATAR_MAX_BYTES`` is refused with a 400). The old file is removed after commit."""
    data = _avatar_jpeg(avatar_image_open(upload))
    old_name = user.avatar.name
    user.avatar.save(f"{uuid.uuid4().hex}.jpg", ContentFile(data), save=False)
    user.save(update_fields=["avatar"])
    if old_name:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return user


@transaction.atomic
def user_remove_avatar(*, user: User) -> User:
    old_name = user.avatar.name
    user.avatar = ""
    user.save(update_fields=["avatar"])
    if old_name:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return user
