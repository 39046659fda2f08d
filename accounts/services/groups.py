"""Groups (班干部, 学生会, 协会 …): members with titles, managed by staff and the group's managers."""

from django.db import IntegrityError, transaction

from wechathhu.core.errors import ApplicationError, ForbiddenError
from wechathhu.core.services import model_update

from ..errors import AccountsErrorCode as Code
from ..models import CampusGroup, GroupMembership, User
from ..selectors import group_can_manage

MEMBER_EXISTS = "该用户已是本组成员。"


def _check_can_manage(*, group: CampusGroup, by: User) -> None:
    if not group_can_manage(group=group, user=by):
        raise ForbiddenError("只有管理员和本组的管理者可以管理成员。")


def group_member_add(
    *, group: CampusGroup, user: User, by: User, title: str = "", is_manager: bool = False
) -> GroupMembership:
    """Add ``user`` to ``group`` with a title (班长, 主席 …). Staff and the group's managers may;
    only staff may make someone a manager."""
    _check_can_manage(group=group, by=by)
    if is_manager and not by.is_staff:
        raise ForbiddenError("只有管理员可以指定本组的管理者。")
    if not user.is_active:
        raise ApplicationError("该用户未激活，不能加入分组。", field="user", code=Code.USER_INACTIVE)
    membership = GroupMembership(group=group, user=user, title=title, is_manager=is_manager)
    membership.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        raise ApplicationError(MEMBER_EXISTS, field="user", code=Code.MEMBER_EXISTS)
    return membership


@transaction.atomic
def group_member_update(
    *, membership: GroupMembership, by: User, title: str | None = None, is_manager: bool | None = None
) -> GroupMembership:
    """Change a member's title (staff and managers) or manager flag (staff only)."""
    _check_can_manage(group=membership.group, by=by)
    if is_manager is not None and is_manager != membership.is_manager and not by.is_staff:
        raise ForbiddenError("只有管理员可以指定本组的管理者。")
    data = {key: value for key, value in (("title", title), ("is_manager", is_manager)) if value is not None}
    model_update(instance=membership, fields=("title", "is_manager"), data=data)
    return membership


@transaction.atomic
def group_member_remove(*, membership: GroupMembership, by: User) -> None:
    """Remove a member. Managers may remove ordinary members and themselves; other managers
    only staff."""
    _check_can_manage(group=membership.group, by=by)
    if membership.is_manager and membership.user_id != by.pk and not by.is_staff:
        raise ForbiddenError("只有管理员可以移除本组的其他管理者。")
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
