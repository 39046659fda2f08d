"""Reads for accounts, shaped for their consumers (no query per row)."""

import re

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Concat

from .models import AuthToken, Department, Friendship, User
from .privacy import ContactVisibility

SEARCH_SPLIT = re.compile(r"[\s,，、;；]+")
MAX_SEARCH_TERMS = 5


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


# --- Directory ------------------------------------------------------------------------------------


def search_terms(text: str | None) -> list[str]:
    """Split a search box into terms (whitespace, ASCII or Chinese commas); at most 5, 50 chars each."""
    terms = [t[:50] for t in SEARCH_SPLIT.split((text or "").strip()) if t]
    return terms[:MAX_SEARCH_TERMS]


def _term_q(term: str, visibility: ContactVisibility) -> Q:
    """Where one search term may match a directory row. A field the viewer may not see is not
    searched either, so a hidden phone number cannot be found by typing it."""
    q = Q(directory_name__icontains=term) | Q(username__iexact=term) | Q(department__name__icontains=term)
    if term.isascii() and term.isalpha():
        lowered = term.lower()
        q |= Q(name_pinyin__startswith=lowered) | Q(name_initials__startswith=lowered)
    for field in ("post", "phone", "tel", "qq"):
        q |= Q(**{f"{field}__icontains": term}) & visibility.visible_q(field)
    return q


def directory_order(queryset: QuerySet[User]) -> QuerySet[User]:
    """The directory's stable order: letter (``?`` last), pinyin of the full name, number."""
    return queryset.annotate(
        alpha_last=Case(When(alpha="?", then=Value(1)), default=Value(0), output_field=IntegerField())
    ).order_by("alpha_last", "alpha", "name_pinyin", "username")


def contact_list(
    *, visibility: ContactVisibility, colleagues_only: bool = False, search: str | None = None
) -> QuerySet[User]:
    """The directory as ``visibility.viewer`` sees it: every active user, in directory order.

    ``colleagues_only`` keeps the viewer's department and the users the viewer added as friends
    (the viewer included). Rows carry the department; serialising them with the same
    ``visibility`` needs no further query.
    """
    viewer = visibility.viewer
    queryset = User.objects.filter(is_active=True).select_related("department")
    if colleagues_only:
        mine = Q(pk=viewer.pk) | Q(pk__in=Friendship.objects.filter(user_id=viewer.pk).values("friend_id"))
        if viewer.department_id is not None:
            mine |= Q(department_id=viewer.department_id)
        queryset = queryset.filter(mine)
    terms = search_terms(search)
    if terms:
        queryset = queryset.annotate(directory_name=Concat("last_name", "first_name"))
        for term in terms:
            queryset = queryset.filter(_term_q(term, visibility))
    return directory_order(queryset)


def user_get_active(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()
