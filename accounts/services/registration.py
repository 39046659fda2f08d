"""Open registration (``ACCOUNTS_OPEN_REGISTRATION``): sign-ups wait for staff approval."""

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from wechathhu.core.errors import ApplicationError

from ..errors import AccountsErrorCode as Code
from ..models import User, UserKind
from ..usernames import username_normalize
from .users import user_create

REGISTRATION_CLOSED = "本系统未开放自助注册，请使用账号认领或联系管理员。"


def registration_check_open() -> None:
    """Sign-up is possible only with ``ACCOUNTS_OPEN_REGISTRATION`` on; otherwise a 403."""
    if not settings.ACCOUNTS_OPEN_REGISTRATION:
        raise ApplicationError(REGISTRATION_CLOSED, status=403, code=Code.REGISTRATION_CLOSED)


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
    registration_check_open()
    if kind not in (UserKind.TEACHER, UserKind.STUDENT):
        raise ApplicationError("身份只能是教师或学生。", field="kind", code=Code.INVALID_KIND)
    if school_class is not None and kind != UserKind.STUDENT:
        raise ApplicationError("只有学生可以选择班级。", field="school_class", code=Code.CLASS_NOT_ALLOWED)
    if school_class is not None and department is None:
        department = school_class.department
    username = username_normalize(username)
    if User.objects.username_taken(username):
        raise ApplicationError(
            "该工号/学号已存在。如果这是您的账号，请使用账号认领。",
            field="username",
            code=Code.USERNAME_TAKEN,
        )
    candidate = User(username=username, last_name=last_name, first_name=first_name, email=email or "")
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc
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
