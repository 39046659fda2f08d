"""Who may send to what (issue 20 item 7, issue 16 item 12): the one owner of the rule.

The API, the admin compose form and the phone pages all call ``audience_check`` before a message
(or more recipients) is written, and list the choices with ``audience_options``.

* **Unrestricted senders**: staff, and users granted ``messaging.send`` (the 消息发送人 role) —
  any mix of users, departments, classes, groups and kinds.
* **Teachers, for their own people** (老师可以对某几个班级的学生、某些学生或一对一地进行消息的推送), without a
  staff grant: a counsellor or head teacher sends to the classes they are on (or some of their
  students), a group manager to their groups (or some of their members). Departments and kinds
  are wider, so they need the role.
* **Everyone**: ``is_global``, and any audience that covers every active user (e.g.
  ``kinds=[teacher, student, staff]``), needs ``messaging.send_global`` (superusers have it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from accounts.models import CampusGroup, Department, SchoolClass, User, UserKind
from accounts.selectors import audience_user_ids, user_managed_audiences
from wechathhu.core.errors import ForbiddenError

from .errors import MessagingErrorCode

SCOPE_ALL = "all"
SCOPE_OWN = "own"


@dataclass(frozen=True)
class SenderScope:
    """What one user may send to. ``class_ids``/``group_ids`` are only filled for a restricted
    sender (an unrestricted one may use any)."""

    user_id: int | None
    unrestricted: bool = False
    can_send_global: bool = False
    class_ids: frozenset[int] = frozenset()
    group_ids: frozenset[int] = frozenset()

    @property
    def can_send(self) -> bool:
        return self.unrestricted or bool(self.class_ids or self.group_ids)

    @property
    def name(self) -> str:
        return SCOPE_ALL if self.unrestricted else SCOPE_OWN


NOBODY = SenderScope(user_id=None)


def sender_scope(*, user) -> SenderScope:
    """The scope of ``user``: no query for an unrestricted sender (beyond the permission cache),
    two for a teacher (the classes they counsel or head, the groups they manage)."""
    if not (user and user.is_authenticated and user.is_active):
        return NOBODY
    can_global = user.has_perm("messaging.send_global")
    if user.is_staff or user.has_perm("messaging.send"):
        return SenderScope(user_id=user.pk, unrestricted=True, can_send_global=can_global)
    managed = user_managed_audiences(user=user)
    return SenderScope(
        user_id=user.pk,
        can_send_global=can_global,
        class_ids=managed.class_ids,
        group_ids=managed.group_ids,
    )


def scope_member_ids(*, scope: SenderScope):
    """The active users a restricted sender may address one by one: the students of their classes
    and the members of their groups (a lazy ``values_list`` of ids)."""
    return audience_user_ids(class_ids=sorted(scope.class_ids), group_ids=sorted(scope.group_ids))


def _deny(message: str, code=MessagingErrorCode.AUDIENCE_NOT_ALLOWED, field=None):
    raise ForbiddenError(message, code=code, field=field)


def _names(model, ids) -> str:
    names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
    return "、".join(names.get(pk, str(pk)) for pk in sorted(ids))


def audience_check(
    *,
    scope: SenderScope,
    recipient_ids=(),
    department_ids=(),
    class_ids=(),
    group_ids=(),
    kinds=(),
    is_global: bool = False,
) -> None:
    """Raise ``PermissionDenied`` (403, a Chinese message naming what is out of reach) unless the
    sender of ``scope`` may send to this audience. Ids that do not exist are the caller's 400,
    checked before this."""
    if not scope.can_send:
        _deny("您没有发送消息的权限。", code=MessagingErrorCode.SEND_NOT_ALLOWED)
    if is_global:
        if not scope.can_send_global:
            _deny("您没有发送全局消息的权限。", code=MessagingErrorCode.GLOBAL_NOT_ALLOWED)
        return
    if not scope.unrestricted:
        if department_ids:
            _deny(
                "您只能向自己负责的班级、分组及其成员发送消息；按系所发送需要“消息发送人”权限。",
                field="department_ids",
            )
        if kinds:
            _deny(
                "您只能向自己负责的班级、分组及其成员发送消息；按身份发送需要“消息发送人”权限。",
                field="kinds",
            )
        outside = set(class_ids) - scope.class_ids
        if outside:
            _deny(
                f"以下班级不是您担任辅导员或班主任的班级：{_names(SchoolClass, outside)}。", field="class_ids"
            )
        outside = set(group_ids) - scope.group_ids
        if outside:
            _deny(f"以下分组不是您管理的分组：{_names(CampusGroup, outside)}。", field="group_ids")
        if recipient_ids:
            wanted = {int(pk) for pk in recipient_ids}
            inside = set(scope_member_ids(scope=scope).filter(pk__in=sorted(wanted)))
            outside = sorted(wanted - inside)
            if outside:
                _deny(
                    f"以下用户不在您负责的班级或分组中：{', '.join(map(str, outside[:20]))}"
                    f"{' 等' if len(outside) > 20 else ''}。",
                    field="recipient_ids",
                )
    if not scope.can_send_global:
        audience = audience_user_ids(
            user_ids=recipient_ids,
            department_ids=department_ids,
            class_ids=class_ids,
            group_ids=group_ids,
            kinds=kinds,
        )
        if audience_covers_everyone(audience):
            _deny(
                "所选范围包含了全部用户，相当于全局消息，需要“可以发送全局消息”的权限。",
                code=MessagingErrorCode.GLOBAL_NOT_ALLOWED,
            )


def audience_covers_everyone(*parts) -> bool:
    """Whether the union of ``parts`` (user-id sub-queries or lists) holds every active user: one
    query that stops at the first active user outside it (found at once for any ordinary audience)."""
    outside = User.objects.filter(is_active=True)
    for part in parts:
        outside = outside.exclude(pk__in=part)
    return not outside.exists()


# --- What a sender may pick ----------------------------------------------------------------------

AUDIENCE_TYPES = ("department", "class", "group", "user")
AUDIENCE_TYPE_CHOICES = (("department", "系所"), ("class", "班级"), ("group", "分组"), ("user", "用户"))


def _active_count(relation: str) -> Count:
    return Count(relation, filter=Q(**{f"{relation}__is_active": True}), distinct=True)


def audience_options(*, scope: SenderScope, type: str | None = None, search: str = "") -> list[dict]:  # noqa: A002
    """What ``scope`` may send to, as ``{"type", "id", "name", "size"}`` entries in the order a
    compose screen lists them: departments, classes, groups (unrestricted: all of them), then, for
    a teacher, the people of their classes and groups one by one. ``size`` is the number of active
    users each reaches. At most four queries whatever the numbers."""
    search = (search or "").strip()
    entries: list[dict] = []
    if not scope.can_send:
        return entries

    def wanted(kind: str) -> bool:
        return type in (None, "", kind)

    if scope.unrestricted and wanted("department"):
        rows = Department.objects.annotate(size=_active_count("department_users")).order_by("name", "id")
        if search:
            rows = rows.filter(name__icontains=search)
        entries += [{"type": "department", "id": d.pk, "name": d.name, "size": d.size} for d in rows]
    if wanted("class") and (scope.unrestricted or scope.class_ids):
        rows = SchoolClass.objects.annotate(size=_active_count("students")).order_by("-grade", "name", "id")
        if not scope.unrestricted:
            rows = rows.filter(pk__in=sorted(scope.class_ids))
        if search:
            rows = rows.filter(name__icontains=search)
        entries += [{"type": "class", "id": c.pk, "name": c.name, "size": c.size} for c in rows]
    if wanted("group") and (scope.unrestricted or scope.group_ids):
        rows = CampusGroup.objects.annotate(size=_active_count("members")).order_by("name", "id")
        if not scope.unrestricted:
            rows = rows.filter(pk__in=sorted(scope.group_ids))
        if search:
            rows = rows.filter(name__icontains=search)
        entries += [{"type": "group", "id": g.pk, "name": g.name, "size": g.size} for g in rows]
    if wanted("user") and not scope.unrestricted:
        people = User.objects.filter(pk__in=scope_member_ids(scope=scope)).order_by("username")
        if search:
            people = people.filter(
                Q(username__icontains=search)
                | Q(last_name__icontains=search)
                | Q(first_name__icontains=search)
                | Q(name_pinyin__icontains=search)
            )
        entries += [
            {"type": "user", "id": pk, "name": User.label(username, last, first), "size": 1}
            for pk, username, last, first in people.values_list("pk", "username", "last_name", "first_name")
        ]
    return entries


def allowed_kinds(*, scope: SenderScope) -> list[str]:
    """The user kinds a sender may address as a whole (all three together need the global right)."""
    return list(UserKind.values) if scope.unrestricted else []
