"""Reads for accounts, shaped for their consumers (no query per row)."""

from django.db.models import Q, QuerySet

from .models import AuthToken, Department, User


def department_list() -> QuerySet[Department]:
    return Department.objects.order_by("name", "id")


def user_get_current(*, user: User) -> User:
    return User.objects.select_related("department").prefetch_related("groups").get(pk=user.pk)


def token_list_for_user(*, user: User) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user=user).order_by("-last_used_at")


def audience_user_ids(
    *,
    user_ids=(),
    department_ids=(),
    class_ids=(),
    group_ids=(),
    kinds=(),
    everyone: bool = False,
) -> QuerySet:
    """The ids of the active users in any of the given audiences, as one query (a values list).

    The result is a lazy ``values_list`` so callers can iterate it in batches or use it as a
    sub-query; duplicates across overlapping audiences are removed.
    """
    active = User.objects.filter(is_active=True)
    if everyone:
        return active.values_list("pk", flat=True).order_by("pk")
    condition = Q()
    if user_ids:
        condition |= Q(pk__in=list(user_ids))
    if department_ids:
        condition |= Q(department_id__in=list(department_ids))
    if class_ids:
        condition |= Q(school_class_id__in=list(class_ids))
    if group_ids:
        condition |= Q(group_memberships__group_id__in=list(group_ids))
    if kinds:
        condition |= Q(kind__in=list(kinds))
    if not condition:
        return User.objects.none().values_list("pk", flat=True)
    return active.filter(condition).values_list("pk", flat=True).distinct().order_by("pk")
