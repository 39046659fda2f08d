"""Reads for activities, shaped for their consumers (a serializer never causes a query)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from wechathhu.core.errors import ForbiddenError, NotFoundError

from . import filterlang
from .models import (
    Activity,
    ClockinItem,
    ClockinKind,
    ClockinRecord,
    ClockinSource,
    Enrollment,
    EnrollmentStatus,
)

User = get_user_model()

ACTIVITY_NOT_FOUND = "该活动不存在。"
CLOCKIN_ITEM_NOT_FOUND = "该打卡项不存在。"


# --- Activities ---------------------------------------------------------------------------------


def activity_audience_q(user) -> Q:
    """Activities whose audience includes ``user`` (everyone, or one of its departments/classes/groups)."""
    through = Activity.audience_groups.through
    in_group = Exists(
        through.objects.filter(
            activity_id=OuterRef("pk"),
            campusgroup_id__in=user.group_memberships.values("group_id"),
        )
    )
    condition = Q(audience_everyone=True) | Q(in_group)
    if user.department_id:
        condition |= Q(
            Exists(
                Activity.audience_departments.through.objects.filter(
                    activity_id=OuterRef("pk"), department_id=user.department_id
                )
            )
        )
    if user.school_class_id:
        condition |= Q(
            Exists(
                Activity.audience_classes.through.objects.filter(
                    activity_id=OuterRef("pk"), schoolclass_id=user.school_class_id
                )
            )
        )
    return condition


def _count_of(status: str):
    return Coalesce(
        Subquery(
            Enrollment.objects.filter(activity_id=OuterRef("pk"), status=status)
            .order_by()
            .values("activity_id")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def with_enrollment_counts(queryset: QuerySet[Activity]) -> QuerySet[Activity]:
    """Each activity with ``enrollment_count`` and ``waiting_count`` (one subquery each), the
    counts every list of activities shows (the API, the admin)."""
    return queryset.annotate(
        enrollment_count=_count_of(EnrollmentStatus.ENROLLED),
        waiting_count=_count_of(EnrollmentStatus.WAITING),
    )


def activity_queryset_for_user(*, user) -> QuerySet[Activity]:
    """What ``user`` may see: open activities of their audience, plus every activity they enrolled in
    (closed or ended ones included, so their history and clock-ins stay visible)."""
    mine = Enrollment.objects.filter(activity_id=OuterRef("pk"), user_id=user.pk)
    return (
        with_enrollment_counts(
            Activity.objects.filter(
                (Q(open_for_enrollment=True) & activity_audience_q(user)) | Q(Exists(mine))
            )
        )
        .annotate(
            my_enrollment_status=Subquery(mine.values("status")[:1]),
            my_enrollment_id=Subquery(mine.values("pk")[:1]),
        )
        .order_by("-time_start", "-id")
    )


def search_terms(search: str) -> list[str]:
    """DRF SearchFilter's rule: terms split on whitespace and commas, every term must match."""
    return [t for t in re.split(r"[\s,，]+", search or "") if t]


def activity_list_for_user(*, user, my: bool = False, search: str = "") -> QuerySet[Activity]:
    qs = activity_queryset_for_user(user=user)
    if my:
        qs = qs.filter(Exists(Enrollment.objects.filter(activity_id=OuterRef("pk"), user_id=user.pk)))
    for term in search_terms(search):
        qs = qs.filter(name__icontains=term)
    return qs


def activity_get_for_user(*, user, activity_id: int) -> Activity:
    activity = activity_queryset_for_user(user=user).filter(pk=activity_id).first()
    if activity is None:
        raise NotFoundError(ACTIVITY_NOT_FOUND)
    return activity


def activity_state(activity: Activity, *, now=None) -> str:
    """报名状态, from the annotated ``enrollment_count`` (no query)."""
    now = now or timezone.now()
    if now >= activity.time_end:
        return "ended"
    if not activity.open_for_enrollment:
        return "closed"
    if activity.enroll_from and now < activity.enroll_from:
        return "not_started"
    if activity.enroll_until and now > activity.enroll_until:
        return "enrollment_closed"
    limit = activity.participants_total_limit
    if limit is not None and getattr(activity, "enrollment_count", 0) >= limit:
        return "full"
    return "enrolling"


STATE_LABELS = {
    "enrolling": "报名中",
    "full": "名额已满",
    "not_started": "报名未开始",
    "enrollment_closed": "报名已截止",
    "closed": "未开放报名",
    "ended": "已结束",
}


# --- Clock-in items -----------------------------------------------------------------------------


def clockin_item_list_for_user(*, user, activity_id: int) -> QuerySet[ClockinItem]:
    """The activity's items, each with whether (and when) ``user`` clocked in to it."""
    activity = activity_queryset_for_user(user=user).filter(pk=activity_id).values("pk").first()
    if activity is None:
        raise NotFoundError(ACTIVITY_NOT_FOUND)
    mine = ClockinRecord.objects.filter(item_id=OuterRef("pk"), user_id=user.pk)
    return (
        ClockinItem.objects.filter(activity_id=activity_id)
        .annotate(is_clockin=Exists(mine), clocked_at=Subquery(mine.values("created_at")[:1]))
        .order_by("from_time", "created_at", "id")
    )


def user_can_show_code(*, user, item: ClockinItem) -> bool:
    """Clock-in officers of the item, and staff allowed to manage clock-in items."""
    if not user.is_active:
        return False
    if user.is_superuser or (user.is_staff and user.has_perm("activities.change_clockinitem")):
        return True
    return item.officers.filter(pk=user.pk).exists()


def clockin_item_get_for_officer(*, user, activity_id: int, label: str) -> ClockinItem:
    item = ClockinItem.objects.select_related("activity").filter(activity_id=activity_id, label=label).first()
    if item is None:
        raise NotFoundError(CLOCKIN_ITEM_NOT_FOUND)
    if not user_can_show_code(user=user, item=item):
        # Only someone who may see the activity learns that the item exists (403); to anyone
        # else it is as missing as an item that never was (404).
        if not activity_queryset_for_user(user=user).filter(pk=activity_id).exists():
            raise NotFoundError(CLOCKIN_ITEM_NOT_FOUND)
        raise ForbiddenError("只有该打卡项的打卡员可以出示打卡二维码。")
    return item


def clockin_items_for_officer(*, user) -> QuerySet[ClockinItem]:
    """The clock-in items ``user`` may show the code of (an officer's own; every item for staff
    allowed to manage them), the latest first, with their activity."""
    qs = ClockinItem.objects.select_related("activity").order_by("-from_time", "-id")
    if user.is_superuser or (user.is_staff and user.has_perm("activities.change_clockinitem")):
        return qs
    return qs.filter(officers=user)


def clockin_item_get_for_officer_by_id(*, user, item_id: int) -> ClockinItem:
    """One item whose code ``user`` may show, else ``NotFound`` (the item is not revealed)."""
    item = clockin_items_for_officer(user=user).filter(pk=item_id).first()
    if item is None:
        raise NotFoundError(CLOCKIN_ITEM_NOT_FOUND)
    return item


def clockin_items_for_staff(*, user) -> QuerySet[ClockinItem]:
    """打卡项 a back-office user may see: all with the view permission, else those they officiate."""
    qs = ClockinItem.objects.select_related("activity")
    if user.is_superuser or user.has_perm("activities.view_clockinitem"):
        return qs
    return qs.filter(officers=user)


# --- Enrollments --------------------------------------------------------------------------------


def enrollment_get_for_user(*, user, enrollment_id: int) -> Enrollment:
    enrollment = Enrollment.objects.select_related("activity").filter(pk=enrollment_id, user=user).first()
    if enrollment is None:
        raise NotFoundError()
    return enrollment


def enrollment_list_for_user(*, user) -> QuerySet[Enrollment]:
    """The user's enrollments (waiting ones included), newest first."""
    return Enrollment.objects.filter(user=user).order_by("-created_at", "-id")


def enrollment_waiting_position(*, enrollment: Enrollment) -> int:
    """1 for the first person on the waiting list, and so on."""
    return (
        Enrollment.objects.filter(activity_id=enrollment.activity_id, status=EnrollmentStatus.WAITING)
        .filter(
            Q(created_at__lt=enrollment.created_at)
            | Q(created_at=enrollment.created_at, pk__lt=enrollment.pk)
        )
        .count()
        + 1
    )


def enrollment_records_prefetch() -> Prefetch:
    return Prefetch(
        "clockin_records",
        queryset=ClockinRecord.objects.select_related("item").order_by("item__from_time", "item_id"),
    )


def enrollment_clockin_filter_q(expression: str, *, known_labels=None, item_ids=None) -> Q:
    """Compile a clock-in filter expression to one ``Q`` over enrollments (``FilterError`` on mistakes).

    Each label becomes ``EXISTS (a record of this enrollment for that item)``, so the whole filter
    runs inside the one query that lists the enrollments. With ``item_ids`` (label → item id, for
    one activity) the sub-queries use the (enrollment, item) index directly; without it they match
    the label across activities, and ``known_labels`` (if given) limits which labels are accepted.
    """
    if item_ids is not None:
        known_labels = item_ids.keys()
    tree = filterlang.parse(expression, known_labels=known_labels)

    def leaf(label: str) -> Q:
        records = ClockinRecord.objects.filter(enrollment_id=OuterRef("pk"))
        if item_ids is not None:
            return Q(Exists(records.filter(item_id=item_ids[label])))
        return Q(Exists(records.filter(item__label=label)))

    return filterlang.to_q(tree, leaf)


def enrollment_list() -> QuerySet[Enrollment]:
    """报名记录 with everything the admin list and the export show: the activity, the person with
    department and class, and their clock-in records."""
    return Enrollment.objects.select_related(
        "activity", "user", "user__department", "user__school_class"
    ).prefetch_related(enrollment_records_prefetch())


def enrollment_clockin_filter(
    queryset: QuerySet[Enrollment], *, expression: str, activity: Activity | None = None
) -> QuerySet[Enrollment]:
    """``queryset`` filtered by a clock-in expression (``FilterError`` on mistakes): within one
    ``activity`` by its items' ids, else by label across activities (labels that exist only)."""
    if activity is not None:
        condition = enrollment_clockin_filter_q(
            expression, item_ids={item.label: item.pk for item in activity.clockin_items.all()}
        )
    elif expression.strip():
        known = ClockinItem.objects.values_list("label", flat=True).distinct()
        condition = enrollment_clockin_filter_q(expression, known_labels=known)
    else:
        return queryset
    return queryset.filter(condition)


def enrollment_list_for_activity(
    *, activity_id: int | None = None, expression: str = ""
) -> QuerySet[Enrollment]:
    """报名记录 (of one activity, or all) filtered by a clock-in expression."""
    queryset, activity = enrollment_list(), None
    if activity_id is not None:
        queryset = queryset.filter(activity_id=activity_id)
        activity = Activity.objects.prefetch_related("clockin_items").filter(pk=activity_id).first()
    return enrollment_clockin_filter(queryset, expression=expression, activity=activity)


@dataclass(frozen=True)
class ClockinProgress:
    clocked: int  # records of people holding a place (as in the statistics)
    enrolled: int


def clockin_item_progress(*, item: ClockinItem) -> ClockinProgress:
    """How many of the people holding a place have clocked in to ``item`` (the projector page)."""
    return ClockinProgress(
        clocked=item.records.filter(enrollment__status=EnrollmentStatus.ENROLLED).count(),
        enrolled=Enrollment.objects.filter(
            activity_id=item.activity_id, status=EnrollmentStatus.ENROLLED
        ).count(),
    )


# --- Statistics ---------------------------------------------------------------------------------


@dataclass
class ItemStats:
    item: ClockinItem
    enrolled: int
    clocked: int
    late: int = 0
    left_early: int = 0
    manual: int = 0

    @property
    def missing(self) -> int:
        return max(self.enrolled - self.clocked, 0)

    @property
    def rate(self) -> float:
        return round(100 * self.clocked / self.enrolled, 1) if self.enrolled else 0.0


@dataclass
class GroupStats:
    name: str
    enrolled: int
    clocked: dict = field(default_factory=dict)  # item id -> count

    def rate(self, item_id: int) -> float:
        return round(100 * self.clocked.get(item_id, 0) / self.enrolled, 1) if self.enrolled else 0.0


@dataclass
class ActivityStats:
    activity: Activity
    enrolled: int
    waiting: int
    items: list[ItemStats]
    by_department: list[GroupStats]
    by_class: list[GroupStats]


def activity_statistics(*, activity: Activity) -> ActivityStats:
    """Per item: enrolled, clocked in, rate, late, left early, missing; and per department / class.

    A fixed number of aggregate queries, whatever the number of people.
    """
    counts = dict(
        Enrollment.objects.filter(activity=activity)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    enrolled = counts.get(EnrollmentStatus.ENROLLED, 0)
    records = ClockinRecord.objects.filter(
        item__activity=activity, enrollment__status=EnrollmentStatus.ENROLLED
    ).order_by()
    counted = Q(records__enrollment__status=EnrollmentStatus.ENROLLED)
    items = list(
        ClockinItem.objects.filter(activity=activity)
        .annotate(
            n_clocked=Count("records", filter=counted),
            n_manual=Count("records", filter=counted & Q(records__source=ClockinSource.MANUAL)),
            n_late=Count(
                "records",
                filter=counted
                & Q(kind=ClockinKind.CHECK_IN)
                & Q(records__created_at__gt=Coalesce(F("deadline"), F("activity__time_start"))),
            ),
            n_left_early=Count(
                "records",
                filter=counted
                & Q(kind=ClockinKind.CHECK_OUT)
                & Q(records__created_at__lt=Coalesce(F("deadline"), F("activity__time_end"))),
            ),
        )
        .order_by("from_time", "created_at", "id")
    )
    item_stats = [
        ItemStats(
            item=item,
            enrolled=enrolled,
            clocked=item.n_clocked,
            late=item.n_late,
            left_early=item.n_left_early,
            manual=item.n_manual,
        )
        for item in items
    ]

    def grouped(path: str) -> list[GroupStats]:
        base = Enrollment.objects.filter(activity=activity, status=EnrollmentStatus.ENROLLED).order_by()
        groups: dict = {}
        for key, name, n in base.values_list(f"user__{path}_id", f"user__{path}__name").annotate(
            n=Count("pk")
        ):
            groups[key] = GroupStats(name=name or "（未设置）", enrolled=n)
        for key, item_id, n in (
            records.values_list(f"user__{path}_id", "item_id").annotate(n=Count("pk")).order_by()
        ):
            if key in groups:
                groups[key].clocked[item_id] = n
        return sorted(groups.values(), key=lambda g: (-g.enrolled, g.name))

    return ActivityStats(
        activity=activity,
        enrolled=enrolled,
        waiting=counts.get(EnrollmentStatus.WAITING, 0),
        items=item_stats,
        by_department=grouped("department"),
        by_class=grouped("school_class"),
    )


def activities_enrolled_in_span(*, user, start, end) -> QuerySet[Activity]:
    """The activities ``user`` is enrolled in (not waiting) that take place within ``[start, end)``,
    with their clock-in items, earliest first (the daily digest)."""
    return (
        Activity.objects.filter(
            time_start__lt=end,
            time_end__gt=start,
            enrollments__user_id=user.pk,
            enrollments__status=EnrollmentStatus.ENROLLED,
        )
        .prefetch_related(Prefetch("clockin_items", queryset=ClockinItem.objects.order_by("from_time", "id")))
        .order_by("time_start", "id")
    )


# --- The admin's 今日概览 -------------------------------------------------------------------------


def activity_overview(*, start, end) -> QuerySet[Activity]:
    """The activities taking place within ``[start, end)``, earliest first, each with
    ``enrolled_total`` (people holding a place) and ``clocked_total`` (of those, how many have
    clocked in to at least one item): one query, however many activities and people."""
    clocked = ClockinRecord.objects.filter(enrollment_id=OuterRef("pk"))
    clocked_people = (
        Enrollment.objects.filter(activity_id=OuterRef("pk"), status=EnrollmentStatus.ENROLLED)
        .filter(Exists(clocked))
        .order_by()
        .values("activity_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return (
        Activity.objects.filter(time_start__lt=end, time_end__gt=start)
        .annotate(
            enrolled_total=_count_of(EnrollmentStatus.ENROLLED),
            clocked_total=Coalesce(Subquery(clocked_people, output_field=IntegerField()), Value(0)),
        )
        .only("id", "name", "location", "time_start", "time_end")
        .order_by("time_start", "id")
    )


def clockin_rate(*, clocked: int, enrolled: int) -> float | None:
    """Clocked-in people ÷ people holding a place (at most 1); ``None`` when nobody holds one."""
    return min(1.0, clocked / enrolled) if enrolled else None
