"""Reads for repairs, each shaped for its consumer so no serializer or template causes a query."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from wechathhu.core.errors import NotFoundError

from .models import (
    OPEN_STATUSES,
    FaultCategory,
    NotificationRecipient,
    RepairEvent,
    RepairPhoto,
    RepairRequest,
)


def category_list_active() -> QuerySet[FaultCategory]:
    return FaultCategory.objects.filter(is_active=True).only("id", "name")


def recipient_route(*, category_id: int | None) -> list[NotificationRecipient]:
    """Who is mailed about a new request of ``category_id`` (``None``: no category).

    The category's own recipients first, then the catch-all ones (no category), which receive
    every request, uncategorised ones included. One entry per e-mail address (case-insensitive),
    so someone listed both ways gets one mail.
    """
    scope = Q(category__isnull=True)
    if category_id is not None:
        scope |= Q(category_id=category_id)
    recipients = NotificationRecipient.objects.filter(scope).order_by(
        Case(When(category__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()),
        "name",
        "id",
    )
    seen: set[str] = set()
    routed = []
    for recipient in recipients:
        key = recipient.email.lower()
        if key not in seen:
            seen.add(key)
            routed.append(recipient)
    return routed


def repair_request_list_for_user(*, user) -> QuerySet[RepairRequest]:
    """The user's own requests, newest first, with their category."""
    return RepairRequest.objects.filter(user=user).select_related("category").order_by("-created_at", "-id")


def repair_request_get_for_user(*, user, request_id: int) -> RepairRequest:
    """One of the user's own requests with its photos and public history; 404 for anyone else's."""
    public_events = (
        RepairEvent.objects.filter(is_internal=False).select_related("actor").order_by("created_at", "id")
    )
    repair = (
        RepairRequest.objects.filter(user=user, pk=request_id)
        .select_related("category", "assignee")
        .prefetch_related("photos", Prefetch("events", queryset=public_events, to_attr="public_events"))
        .first()
    )
    if repair is None:
        raise NotFoundError()
    return repair


def repair_request_get_for_photo(*, user, request_id: int, photo_id: int) -> RepairPhoto:
    """A photo the user may see: on their own request, or any photo for staff who may view requests."""
    photos = RepairPhoto.objects.filter(pk=photo_id, request_id=request_id)
    if not (user.is_staff and user.has_perm("repairs.view_repairrequest")):
        photos = photos.filter(request__user=user)
    photo = photos.first()
    if photo is None:
        raise NotFoundError()
    return photo


def repair_request_is_overdue(repair: RepairRequest, *, now: datetime | None = None) -> bool:
    return repair.status in OPEN_STATUSES and repair.due_at < (now or timezone.now())


def repair_request_due_at(*, category: FaultCategory | None, created_at: datetime) -> datetime:
    hours = category.response_hours if category else settings.REPAIRS_DEFAULT_RESPONSE_HOURS
    return created_at + timedelta(hours=hours)


# --- Admin dashboard ---------------------------------------------------------------------------

AGE_BUCKETS = (
    # (key, label, lower bound in hours, upper bound in hours or None)
    ("lt1d", "1 天内", 0, 24),
    ("d1_3", "1–3 天", 24, 72),
    ("d3_7", "3–7 天", 72, 168),
    ("gt7d", "7 天以上", 168, None),
)


@dataclass
class DashboardRow:
    category_id: int | None
    name: str
    buckets: dict[str, int]
    overdue: int
    total: int = field(init=False)

    def __post_init__(self):
        self.total = sum(self.buckets.values())


def repair_dashboard(*, now: datetime | None = None) -> list[DashboardRow]:
    """Open requests (未受理 and 处理中) per category, counted by age and overdue, in one query."""
    now = now or timezone.now()
    aggregates = {"overdue": Count("id", filter=Q(due_at__lt=now))}
    for key, _label, low, high in AGE_BUCKETS:
        condition = Q(created_at__lte=now - timedelta(hours=low))
        if high is not None:
            condition &= Q(created_at__gt=now - timedelta(hours=high))
        aggregates[key] = Count("id", filter=condition)
    rows = (
        RepairRequest.objects.filter(status__in=OPEN_STATUSES)
        .values("category_id", "category__name", "category__position")
        .annotate(**aggregates)
        .order_by("category__position", "category__name")
    )
    result = [
        DashboardRow(
            category_id=row["category_id"],
            name=row["category__name"] or "未分类",
            buckets={key: row[key] for key, *_ in AGE_BUCKETS},
            overdue=row["overdue"],
        )
        for row in rows
    ]
    # Uncategorised requests last, whatever the database's NULL ordering.
    return sorted(result, key=lambda r: r.category_id is None)


def repair_request_list_overdue(*, now: datetime | None = None) -> QuerySet[RepairRequest]:
    return (
        RepairRequest.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now or timezone.now())
        .select_related("category", "assignee", "user")
        .order_by("due_at")
    )


# --- The admin's 今日概览 -------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairOverview:
    open: int  # 未受理 and 处理中
    overdue: int  # of those, past their deadline


def repair_overview(*, now: datetime | None = None) -> RepairOverview:
    """Open and overdue requests, in one query (the admin home's figure)."""
    now = now or timezone.now()
    row = RepairRequest.objects.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now))
    )
    return RepairOverview(open=row["open"], overdue=row["overdue"])
