"""Users: creating accounts, the profile and directory card, changing the password."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from wechathhu.core.errors import ApplicationError

from ..errors import AccountsErrorCode as Code
from ..models import User
from .names import user_refresh_name_keys

PROFILE_FIELDS = ("first_name", "last_name", "email", "department")
CARD_FIELDS = ("post", "qq", "wechat", "tel", "phone", "description")
VISIBILITY_FIELDS = tuple(
    f"{field}_visibility" for field in ("post", "tel", "email", "phone", "qq", "wechat", "presence")
)


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
            if value in (None, "") and field in VISIBILITY_FIELDS:
                continue  # not given (an older form or client): unchanged
            if value is None and field != "department":
                value = ""
            setattr(user, field, value)
    user_refresh_name_keys(user)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def user_change_password(*, user: User, old_password: str, new_password: str, keep_token=None) -> None:
    """Set a new password; the current one must be given (a stolen token is not enough). Every
    other device is signed out (its token revoked, its session ended); ``keep_token``, the token
    of the device that changed it, stays."""
    if not user.check_password(old_password or ""):
        raise ApplicationError("当前密码不正确。", field="old_password", code=Code.WRONG_PASSWORD)
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc
    user.set_password(new_password)
    user.keep_token_id = keep_token.pk if keep_token is not None else None
    user.save(update_fields=["password"])
