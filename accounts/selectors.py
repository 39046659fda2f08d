"""Reads for accounts, shaped for their consumers (no query per row)."""

import re
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Concat

from wechathhu.core.errors import NotFoundError

from . import search as directory_search
from .models import (
    ALPHA_LAST,
    DIRECTORY_ORDER,
    AuthToken,
    CampusGroup,
    Department,
    GroupMembership,
    SchoolClass,
    User,
)
from .privacy import COLLEAGUE_KINDS, PRIVATE_FIELDS, ContactVisibility, colleague_department_id

SEARCH_SPLIT = re.compile(r"[\s,，、;；]+")
MAX_SEARCH_TERMS = 5


def department_list() -> QuerySet[Department]:
    return Department.objects.order_by("name", "id")


def user_get_current(*, user: User) -> User:
    """The signed-in user with what the current-user answers show: the department and the groups.

    It is the request's own user, as authentication loaded it (with both from the token cache,
    with the department from the database) and as the services wrote it: only what is missing
    is read (a session's user reads its department when shown)."""
    prefetch_related_objects([user], "groups")
    return user


def token_list_for_user(*, user: User) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user=user).order_by("-last_used_at")


def token_get_for_user(*, user: User, token_id: int) -> AuthToken:
    """One of the user's own tokens, else 404."""
    token = token_list_for_user(user=user).filter(pk=token_id).first()
    if token is None:
        raise NotFoundError()
    return token


def audience_user_ids(
    *,
    user_ids=(),
    department_ids=(),
    class_ids=(),
    group_ids=(),
    kinds=(),
    everyone: bool = False,
) -> QuerySet:
    """The ids of the active users in any of the given audiences (their union), as one query.

    ``class_ids`` means the students of those classes; ``group_ids`` the members of those groups;
    ``kinds`` are ``UserKind`` values. Inactive users (left, or waiting for approval) are never
    included; a user in several of the audiences comes once. ``everyone`` is every active user.

    The result is a lazy ``values_list`` ordered by id, so callers can iterate it in batches or use
    it as a sub-query. Groups are matched through a sub-query (no join), so there are no duplicate
    rows to remove and the cost is one pass over the user table, whatever the mix.
    """
    active = User.objects.filter(is_active=True)
    if everyone:
        return active.values_list("pk", flat=True).order_by("pk")
    condition = Q()
    if user_ids:
        condition |= Q(pk__in=_ids(user_ids))
    if department_ids:
        condition |= Q(department_id__in=_ids(department_ids))
    if class_ids:
        condition |= Q(school_class_id__in=_ids(class_ids))
    if group_ids:
        members = GroupMembership.objects.filter(group_id__in=_ids(group_ids)).values("user_id")
        condition |= Q(pk__in=members)
    if kinds:
        condition |= Q(kind__in=sorted(set(kinds)))
    if not condition:
        return User.objects.none().values_list("pk", flat=True)
    return active.filter(condition).values_list("pk", flat=True).order_by("pk")


def _ids(values) -> list[int] | QuerySet:
    """Distinct ids from any iterable (a list, a set, a values_list …), sorted."""
    if isinstance(values, QuerySet):
        return values  # a sub-query stays a sub-query
    return sorted({int(v) for v in values})


# --- Directory ------------------------------------------------------------------------------------


def search_terms(text: str | None) -> list[str]:
    """Split a search box into terms (whitespace, ASCII or Chinese commas); at most 5, 50 chars each."""
    terms = [t[:50] for t in SEARCH_SPLIT.split((text or "").strip()) if t]
    return terms[:MAX_SEARCH_TERMS]


def _term_q(term: str, visibility: ContactVisibility) -> Q:
    """Where one search term may match a directory row. A field the viewer may not see is not
    searched either, so a hidden phone number cannot be found by typing it."""
    # The department through a sub-query on its small table, not the join: with the join in the
    # condition MariaDB evaluated it for every user before sorting (5x slower at 50 000 users).
    departments = Department.objects.filter(name__icontains=term).values("pk")
    q = Q(directory_name__icontains=term) | Q(username__iexact=term) | Q(department_id__in=departments)
    if term.isascii() and term.isalpha():
        lowered = term.lower()
        q |= Q(name_pinyin__startswith=lowered) | Q(name_initials__startswith=lowered)
    for field in ("post", "phone", "tel", "qq"):
        q |= Q(**{f"{field}__icontains": term}) & visibility.visible_q(field)
    return q


def directory_order(queryset: QuerySet[User], *, whole: bool = False) -> QuerySet[User]:
    """The directory's stable order: letter (``?`` last), pinyin of the full name, number.

    ``whole``: the queryset is (nearly) every active user, so walking the ``user_directory_order``
    index and stopping at the page is the fastest plan. Otherwise (a search, one department) the
    matches are sorted by the same keys as an expression: offered the index, MariaDB would walk it
    and look up every user in turn to find a few matches (5x slower than scanning at 50 000).
    """
    return queryset.order_by(*directory_sort_keys(whole=whole))


def directory_sort_keys(*, whole: bool = False) -> tuple:
    return DIRECTORY_ORDER if whole else (ALPHA_LAST, *DIRECTORY_ORDER[1:])


def contact_list(
    *, visibility: ContactVisibility, colleagues_only: bool = False, search: str | None = None
) -> QuerySet[User]:
    """The directory as ``visibility.viewer`` sees it: every active user, in directory order.

    ``colleagues_only`` keeps the viewer's colleagues (the teachers and staff of the department
    when the viewer is one: ``privacy.colleague_department_id``) and the users the viewer added as
    friends (the viewer included). Read it through ``contact_rows``; serialising those with the same
    ``visibility`` needs no further query.
    """
    viewer = visibility.viewer
    queryset = User.objects.filter(is_active=True)
    if colleagues_only:
        # The friends as a list (``visibility`` loads them once anyway): with a sub-query in the OR,
        # MariaDB scanned every user; with a list it merges the primary key and department indexes.
        mine = Q(pk__in=[viewer.pk, *sorted(visibility.friend_ids)])
        department_id = colleague_department_id(viewer)
        if department_id is not None:
            mine |= Q(department_id=department_id, kind__in=COLLEAGUE_KINDS)
        queryset = queryset.filter(mine)
    terms = search_terms(search)
    if terms:
        queryset = queryset.annotate(directory_name=Concat("last_name", "first_name"))
        for term in terms:
            # the index narrows the rows read; the term's conditions decide what matches
            queryset = directory_search.candidates_filter(queryset, term).filter(_term_q(term, visibility))
    return directory_order(queryset, whole=not (terms or colleagues_only))


# What a directory entry shows and its privacy rule needs (``ContactSerializer`` reads these rows).
CONTACT_COLUMNS = (
    "pk",
    "username",
    "first_name",
    "last_name",
    "kind",
    "email",
    "avatar",
    "description",
    "alpha",
    "department_id",
    "department_name",
    *PRIVATE_FIELDS,
    *(f"{field}_visibility" for field in PRIVATE_FIELDS),
)


def contact_rows(queryset: QuerySet[User]) -> QuerySet:
    """Directory entries of ``queryset`` as rows with the attributes ``CONTACT_COLUMNS``.

    Rows, not models: a directory page is up to 1 000 people, and building a full ``User`` (and
    its department) for each cost more than the query. They still answer ``ContactVisibility``.
    """
    return queryset.annotate(department_name=F("department__name")).values_list(*CONTACT_COLUMNS, named=True)


def user_get(*, user_id: int) -> User:
    """Any user, active or not, else 404."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError()
    return user


def user_get_active(*, user_id: int) -> User:
    """An active user, else 404."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFoundError()
    return user


# --- Groups and classes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagedAudiences:
    """What a person is responsible for: the classes they counsel or head, the groups they
    manage. Other domains use it to decide who may message or gather whom."""

    class_ids: frozenset[int]
    group_ids: frozenset[int]


def user_managed_audiences(*, user: User) -> ManagedAudiences:
    """Classes ``user`` counsels (辅导员) or heads (班主任), groups ``user`` manages; two queries."""
    classes = SchoolClass.objects.filter(Q(counsellors=user) | Q(head_teacher=user)).values_list(
        "pk", flat=True
    )
    groups = GroupMembership.objects.filter(user=user, is_manager=True).values_list("group_id", flat=True)
    return ManagedAudiences(class_ids=frozenset(classes), group_ids=frozenset(groups))


def group_can_manage(*, group: CampusGroup, user: User) -> bool:
    """Staff manage every group; a member flagged ``is_manager`` manages theirs."""
    if user.is_staff:
        return True
    return GroupMembership.objects.filter(group=group, user=user, is_manager=True).exists()


def group_list_for_user(*, user: User) -> QuerySet[CampusGroup]:
    """The groups ``user`` belongs to (all of them for staff), with ``member_count`` and the
    caller's own ``my_title`` / ``i_manage``."""
    mine = GroupMembership.objects.filter(group=OuterRef("pk"), user_id=user.pk)
    queryset = CampusGroup.objects.all()
    if not user.is_staff:
        queryset = queryset.filter(Exists(mine))
    return queryset.annotate(
        member_count=Count("memberships", filter=Q(memberships__user__is_active=True)),
        my_title=mine.values("title")[:1],
        i_manage=Exists(mine.filter(is_manager=True)),
    ).order_by("name", "id")


def group_get_for_user(*, user: User, group_id: int) -> CampusGroup:
    """A group the user may look at (a member, or staff), else 404 (no existence leak)."""
    group = group_list_for_user(user=user).filter(pk=group_id).first()
    if group is None:
        raise NotFoundError()
    return group


def group_member_list(*, group: CampusGroup) -> QuerySet[GroupMembership]:
    """Active members of a group: managers first, then by title and the directory order."""
    return (
        GroupMembership.objects.filter(group=group, user__is_active=True)
        .select_related("user", "user__department")
        .order_by("-is_manager", "title", "user__alpha", "user__name_pinyin", "user__username")
    )


def group_membership_get(*, group: CampusGroup, user_id: int) -> GroupMembership:
    """``user_id``'s membership of ``group``, else 404."""
    membership = (
        GroupMembership.objects.select_related("group", "user").filter(group=group, user_id=user_id).first()
    )
    if membership is None:
        raise NotFoundError()
    return membership


def school_class_list(*, search: str | None = None) -> QuerySet[SchoolClass]:
    """Classes with their department, head teacher, counsellors and ``student_count``."""
    queryset = (
        SchoolClass.objects.select_related("department", "head_teacher")
        .prefetch_related(
            Prefetch(
                "counsellors",
                queryset=User.objects.filter(is_active=True).order_by("alpha", "name_pinyin", "username"),
            )
        )
        .annotate(student_count=Count("students", filter=Q(students__is_active=True)))
    )
    for term in search_terms(search):
        queryset = queryset.filter(
            Q(name__icontains=term) | Q(major__icontains=term) | Q(department__name__icontains=term)
        )
    return queryset.order_by("-grade", "name", "id")


def user_search(*, query: str) -> QuerySet[User]:
    """Active users matching every term of ``query`` by number (exact or prefix), name or pinyin
    (full or initials): never by a contact field, so privacy cannot be probed. Exact number
    matches come first, then the directory order."""
    queryset = User.objects.filter(is_active=True)
    terms = search_terms(query)
    if not terms:
        return queryset.none()
    queryset = queryset.annotate(directory_name=Concat("last_name", "first_name"))
    for term in terms:
        q = Q(username__istartswith=term) | Q(directory_name__icontains=term)
        if term.isascii() and term.isalpha():
            q |= Q(name_pinyin__startswith=term.lower()) | Q(name_initials__startswith=term.lower())
        queryset = directory_search.candidates_filter(queryset, term).filter(q)
    exact = Case(
        When(username__iexact=terms[0], then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return queryset.annotate(exact_number=exact).order_by("exact_number", *directory_sort_keys())
