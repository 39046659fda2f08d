"""Claiming an imported account: its owner proves the initial password or a one-time code, binds
WeChat and logs in."""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wechathhu.core.errors import NON_FIELD_ERRORS, ApplicationError

from ..errors import AccountsErrorCode as Code
from ..models import AuthToken, ClaimCode, User
from ..usernames import username_is_well_formed, username_normalize
from .tokens import token_issue
from .wechat import official_follower_link, openid_move, unionid_move, wechat_session

logger = logging.getLogger(__name__)

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
        raise ApplicationError(f"{user} 已被认领或未激活，无需认领码。", code=Code.CLAIM_NOT_NEEDED)
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


def _claim_proof_ok(user: User | None, *, password: str | None, claim_code: str | None) -> bool:
    """The password or code checked against ``user``, or the same work done for nobody."""
    if claim_code:
        digest = _claim_code_hash(claim_code)
        stored = ClaimCode.objects.filter(user_id=user and user.pk, expires_at__gt=timezone.now()).first()
        return stored is not None and hmac.compare_digest(stored.code_hash, digest)
    if password:
        # A user without a usable password, or the stand-in for nobody, costs one hash too.
        return (user or User()).check_password(password)
    return False


def claim_proof_check(*, password: str | None, claim_code: str | None) -> None:
    """A claim proves ownership with the initial password or a claim code: one of them is needed."""
    if not password and not claim_code:
        raise ApplicationError(CLAIM_PROOF_MISSING, field=NON_FIELD_ERRORS, code=Code.CLAIM_PROOF_MISSING)


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
    claim_proof_check(password=password, claim_code=claim_code)
    session = wechat_session(wechat_code)
    with transaction.atomic():
        user = user_claim_account(
            username=username,
            name=name,
            password=password,
            claim_code=claim_code,
            new_password=new_password,
            openid=session.openid,
            unionid=session.unionid,
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
    unionid: str | None = None,
) -> User:
    """The claim itself (see ``user_claim``), for every door: the mini-program binds its WeChat
    ``openid``; the H5 portal claims without one and opens a browser session. Returns the user;
    every mismatch is the same ``CLAIM_FAILED``."""
    claim_proof_check(password=password, claim_code=claim_code)
    name_typed = username_normalize(username)
    user = (
        User.objects.select_for_update().filter(username__iexact=name_typed).first()
        if username_is_well_formed(name_typed)
        else None
    )
    # The proof is always checked, and against a stand-in when there is no account, so every
    # answer costs the same work (one password hash when a password is given): the time taken
    # tells nothing about which part was wrong.
    proof_ok = _claim_proof_ok(user, password=password, claim_code=claim_code)
    ok = (
        user is not None
        and user.is_active
        and user.claimed_at is None
        and _names_match(user, name)
        and proof_ok
    )
    if not ok:
        raise ApplicationError(CLAIM_FAILED, field=NON_FIELD_ERRORS, code=Code.CLAIM_FAILED)
    if new_password:
        try:
            password_validation.validate_password(new_password, user)
        except ValidationError as exc:
            raise ValidationError({"new_password": exc.error_list}) from exc
        user.set_password(new_password)
    fields = ["password", "claimed_at", "last_login"]
    if openid:
        openid_move(user=user, openid=openid)
        fields.append("wechat_openid")
        if unionid_move(user=user, unionid=unionid):
            fields.append("wechat_unionid")
    user.claimed_at = timezone.now()
    user.last_login = user.claimed_at
    user.save(update_fields=fields)
    ClaimCode.objects.filter(user=user).delete()
    official_follower_link(user=user)
    logger.info("Account %s claimed", user.pk)
    return user
