"""Reads for the message center, shaped for their consumers.

A user's inbox is the union of two halves, each driven by its own index so that its cost does
not grow with the number of messages in the system:

* **targeted**: the user's own recipient rows (unique index ``(recipient, message)``), joined to
  their visible messages;
* **global**: the visible global messages (index ``(is_global, is_active, published_at)``),
  left-joined to the user's state row for each, if any (fan-out on read).

Both halves carry the user's engagement (``read_at``, ``archived_at``) through the same
``FilteredRelation``, so filters and counts are written once for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, FilteredRelation, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from wechathhu.core.errors import ForbiddenError, NotFoundError

from . import audiences
from .errors import MessagingErrorCode
from .filters import RecipientFilterSet, SenderMessageFilterSet, UserMessageFilterSet, apply_filterset
from .models import Message, MessagePriority, MessageRecipient, MessageType, RecipientText
from .polls import with_poll
from .preferences import DeliveryPreferences, delivery_preferences_for_users  # noqa: F401 - the API

MESSAGE_NOT_FOUND = "消息不存在。"


# --- Who may do what --------------------------------------------------------------------------


def user_can_send(*, user) -> bool:
    """Staff and users granted ``messaging.send`` may send to anyone; counsellors, head teachers and
    group managers to their own classes and groups (``messaging.audiences``, the rule's owner)."""
    return audiences.sender_scope(user=user).can_send


def message_center_admin(*, user) -> bool:
    """Message-center administrators (staff holding ``messaging.view_message``; superusers) see
    every sender's messages (seed 001: 获取系统中所有消息列表). Changing one stays the sender's."""
    return bool(
        user.is_authenticated and user.is_active and user.is_staff and user.has_perm("messaging.view_message")
    )


def user_can_send_global(*, user) -> bool:
    """Only superusers and holders of ``messaging.send_global`` may message everyone."""
    return bool(user.is_authenticated and user.is_active and user.has_perm("messaging.send_global"))


# --- Private questions awaiting an answer -----------------------------------------------------------

# The comments changelist's filter for them (the admin home links its count there).
QUESTION_AWAITING_ADMIN_QUERY = "awaiting=yes"


def question_awaiting_q(prefix: str = "") -> Q:
    """A private question nobody has answered yet (and nobody hid)."""
    return Q(
        **{
            f"{prefix}is_private": True,
            f"{prefix}is_answer": False,
            f"{prefix}answered_at__isnull": True,
            f"{prefix}hidden_at__isnull": True,
        }
    )


def question_list_awaiting() -> QuerySet:
    """Every private question awaiting its sender's answer (the admin home's 待回复的私信提问)."""
    from .models import MessageComment

    return MessageComment.objects.filter(question_awaiting_q())


# --- Visibility -------------------------------------------------------------------------------


def visible_q(*, now=None, prefix: str = "") -> Q:
    """Published, not withdrawn and not expired at ``now``."""
    now = now or timezone.now()
    return Q(**{f"{prefix}is_active": True, f"{prefix}published_at__lte": now}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})
    )


def _with_user_state(queryset: QuerySet[Message], *, user: User) -> QuerySet[Message]:
    """Left-join each message to ``user``'s state row, if any (unique per message and user).

    Filters go through the ``state_*`` annotations, never ``state__…`` lookups: each separate
    ``filter()`` on a multi-valued relation would add another join.
    """
    return queryset.alias(
        state=FilteredRelation("recipients", condition=Q(recipients__recipient=user))
    ).annotate(
        state_id=F("state__id"),
        state_read_at=F("state__read_at"),
        state_archived_at=F("state__archived_at"),
    )


def with_personal_text(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """On a queryset carrying the user's state: the title and content filled for that user when the
    message was sent from a template with placeholders (``RecipientText``), and the attachments
    (one query for the page). ``personal_title`` is ``None`` for other messages."""
    return queryset.annotate(
        personal_title=F("state__personal_text__title"),
        personal_content=F("state__personal_text__content"),
    ).prefetch_related("attachments")


def _inbox_halves(*, user: User, now=None) -> tuple[QuerySet[Message], QuerySet[Message]]:
    visible = _with_user_state(Message.objects.filter(visible_q(now=now)), user=user)
    targeted = visible.filter(is_global=False, state_id__isnull=False)
    everyone = visible.filter(is_global=True)
    return targeted, everyone


class Inbox:
    """A user's visible messages, newest first, sliceable and countable like a queryset.

    ``count()`` is one query; a slice is two (the page's ids through ``UNION ALL`` of the two
    halves, then those rows with their sender and the user's state).
    """

    def __init__(self, *, user: User, targeted: QuerySet[Message], everyone: QuerySet[Message]):
        self.user = user
        self.targeted = targeted
        self.everyone = everyone

    @property
    def ranked(self) -> bool:
        """Searching: the halves carry ``search_rank`` and the page is ordered by it first."""
        return "search_rank" in self.targeted.query.annotations

    def _ids(self):
        columns = ("id", "published_at", "search_rank") if self.ranked else ("id", "published_at")
        return (
            self.targeted.order_by()
            .values_list(*columns)
            .union(self.everyone.order_by().values_list(*columns), all=True)
        )

    def count(self) -> int:
        return self._ids().count()

    def __len__(self) -> int:
        return self.count()

    def page_ids(self, item: slice) -> list[int]:
        """The ids of a slice of the list, in its order (one query)."""
        ordering = ("-search_rank", "-published_at", "-id") if self.ranked else ("-published_at", "-id")
        return [row[0] for row in self._ids().order_by(*ordering)[item]]

    def __getitem__(self, item):
        if not isinstance(item, slice):
            raise TypeError("Inbox supports slicing only.")
        ids = self.page_ids(item)
        if not ids:
            return []
        rows = {
            m.pk: m
            for m in with_poll(
                with_personal_text(_with_user_state(Message.objects.filter(pk__in=ids), user=self.user)),
                self.user,
            ).select_related("sender", "category")
        }
        return [rows[pk] for pk in ids if pk in rows]


def message_inbox(*, user: User, filters=None) -> Inbox:
    """The user's visible messages filtered by seed 001's user-list parameters.

    Archived messages are left out unless ``is_archived`` is given (seed 001: 已归档的消息不在常规
    列表中显示).
    """
    filters = filters.copy() if filters else {}  # a QueryDict copy is mutable
    targeted, everyone = _inbox_halves(user=user)
    if filters.get("is_archived") in (None, ""):
        filters["is_archived"] = "false"
    targeted = apply_filterset(UserMessageFilterSet, filters, targeted)
    everyone = apply_filterset(UserMessageFilterSet, filters, everyone)
    return Inbox(user=user, targeted=targeted, everyone=everyone)


def message_unread_titles(*, user: User, limit: int) -> list[str]:
    """The titles of the user's ``limit`` newest unread messages, as they read them (a templated
    message's title filled for them): two queries (the ids, then the titles), nothing else loaded."""
    ids = message_inbox(user=user, filters={"is_read": "false"}).page_ids(slice(0, limit))
    titles = dict(
        Message.objects.filter(pk__in=ids)
        .annotate(
            personal_title=Subquery(
                RecipientText.objects.filter(
                    recipient_row__message=OuterRef("pk"), recipient_row__recipient=user
                ).values("title")[:1]
            )
        )
        .values_list("pk", Coalesce("personal_title", "title"))
    )
    return [titles[pk] for pk in ids if pk in titles]


def message_get_for_user(*, user: User, message_id: int) -> Message:
    """One visible message addressed to ``user`` (or global), with the user's state; else 404."""
    message = (
        with_poll(
            with_personal_text(
                _with_user_state(Message.objects.filter(visible_q(), pk=message_id), user=user)
            ),
            user,
        )
        .filter(Q(is_global=True) | Q(state_id__isnull=False))
        .select_related("sender", "category")
        .first()
    )
    if message is None:
        raise NotFoundError(MESSAGE_NOT_FOUND)
    return message


def message_visible_ids_for_user(*, user: User, message_ids) -> list[tuple[int, bool]]:
    """``(id, is_global)`` of those of ``message_ids`` the user can see; the rest are dropped."""
    return list(
        _with_user_state(Message.objects.filter(visible_q(), pk__in=list(message_ids)), user=user)
        .filter(Q(is_global=True) | Q(state_id__isnull=False))
        .values_list("id", "is_global")
    )


def _state_counts(queryset: QuerySet[Message]) -> list[dict]:
    """The half's counts per category (one grouped query; a row per category present)."""
    return list(
        queryset.order_by()
        .values("category_id", "category__name", "category__position")
        .annotate(
            total=Count("id"),
            read=Count("id", filter=Q(state_read_at__isnull=False)),
            archived=Count("id", filter=Q(state_archived_at__isnull=False)),
            **{t.value: Count("id", filter=Q(type=t.value)) for t in MessageType},
        )
    )


def message_unread_count(*, user: User) -> int:
    """Visible messages the user has not read (archiving marks read), in one query."""
    targeted, everyone = _inbox_halves(user=user)
    unread = Q(state_read_at__isnull=True)
    return (
        targeted.filter(unread)
        .order_by()
        .values("id")
        .union(everyone.filter(unread).order_by().values("id"), all=True)
        .count()
    )


def message_stats_for_user(*, user: User) -> dict:
    """seed 001's ``MessageStatsResponse`` for ``user``, plus ``category_counts`` (extension): two
    grouped queries, one per half, summed here."""
    targeted, everyone = _inbox_halves(user=user)
    rows = _state_counts(targeted) + _state_counts(everyone)
    total = sum(r["total"] for r in rows)
    read = sum(r["read"] for r in rows)
    stats = {
        "total_count": total,
        "unread_count": total - read,
        "read_count": read,
        "archived_count": sum(r["archived"] for r in rows),
    }
    for t in MessageType:
        stats[f"{t.value}_count"] = sum(r[t.value] for r in rows)
    per_category: dict = {}
    for r in rows:
        entry = per_category.setdefault(
            r["category_id"],
            {
                "id": r["category_id"],
                "name": r["category__name"] or "未分类",
                "position": r["category__position"],
                "count": 0,
                "unread_count": 0,
            },
        )
        entry["count"] += r["total"]
        entry["unread_count"] += r["total"] - r["read"]
    ordered = sorted(per_category.values(), key=lambda e: (e["id"] is None, e["position"] or 0, e["id"] or 0))
    stats["category_counts"] = [{k: v for k, v in e.items() if k != "position"} for e in ordered]
    return stats


# --- Senders ----------------------------------------------------------------------------------


def messages_of_sender(*, user: User) -> QuerySet[Message]:
    """The messages ``user`` sees as a sender: every message for a message-center administrator,
    their own otherwise."""
    queryset = Message.objects.all()
    if not message_center_admin(user=user):
        queryset = queryset.filter(sender=user)
    return queryset


def message_list_for_sender(*, user: User, filters=None) -> QuerySet[Message]:
    """seed 001's admin list: every message for a message-center administrator, a sender's own
    otherwise, newest first."""
    queryset = (
        with_poll(messages_of_sender(user=user), user)
        .select_related("sender", "category")
        .prefetch_related("attachments")
        .order_by("-published_at", "-id")
    )
    return apply_filterset(SenderMessageFilterSet, filters or {}, queryset)


# What only the sender may do to a message (seed 001: 只有发送者可以更新/删除).
SENDER_ONLY_ACTIONS = {
    "update": "只有发送者可以更新消息。",
    "delete": "只有发送者可以删除消息。",
    "add_recipients": "只有发送者可以添加接收者。",
    "attach": "只有发送者可以管理附件。",
}


def message_get_for_sender(
    *, user: User, message_id: int, with_recipients: bool = False, action: str | None = None
) -> Message:
    """A message ``user`` sees as a sender (``messages_of_sender``), else 404.

    With ``action`` (a key of ``SENDER_ONLY_ACTIONS``), someone who sees the message but did not
    send it gets 403; 404 stays for those who cannot see it. ``with_recipients`` loads its first
    ``MESSAGING_DETAIL_RECIPIENTS`` recipient rows, with their users, as ``recipient_rows`` (the
    full list is paginated: ``message_recipient_list``).
    """
    message = (
        with_poll(messages_of_sender(user=user), user)
        .select_related("sender", "category")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise NotFoundError(MESSAGE_NOT_FOUND)
    if action is not None and message.sender_id != user.pk:
        raise ForbiddenError(SENDER_ONLY_ACTIONS[action], code=MessagingErrorCode.NOT_THE_SENDER)
    if with_recipients:
        message.recipient_rows = list(
            message_recipient_list(message=message)[: settings.MESSAGING_DETAIL_RECIPIENTS]
        )
    return message


def message_recipient_list(*, message: Message, filters=None) -> QuerySet[MessageRecipient]:
    """A message's recipient rows with each recipient, in send order, filtered by state.

    For a global message these are the users who have read or archived it so far.
    """
    queryset = MessageRecipient.objects.filter(message=message).select_related("recipient").order_by("id")
    return apply_filterset(RecipientFilterSet, filters or {}, queryset)


# --- Read rates -------------------------------------------------------------------------------


def read_rate(*, read: int, audience: int) -> float | None:
    """The read rate, the one formula: read ÷ audience (at most 1), ``None`` without an audience.

    Engagement only (``MessageRecipient.read_at``), never delivery; a global message's audience
    is the number of users active when it was published (``Message.audience_size``).
    """
    if not audience:
        return None
    return min(1.0, read / audience)


@dataclass(frozen=True)
class ReadFigures:
    audience: int
    read: int

    @property
    def rate(self) -> float | None:
        return read_rate(read=self.read, audience=self.audience)


def message_read_figures(*, message: Message) -> ReadFigures:
    read = MessageRecipient.objects.filter(message=message, read_at__isnull=False).count()
    return ReadFigures(audience=message.audience_size, read=read)


def with_read_total(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """Each message with ``read_total``, how many recipients have read it (one subquery)."""
    reads = (
        MessageRecipient.objects.filter(message=OuterRef("pk"), read_at__isnull=False)
        .order_by()
        .values("message")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(read_total=Coalesce(Subquery(reads, output_field=IntegerField()), 0))


# --- One message's audience (admin) -----------------------------------------------------------


def message_audience_list(*, message: Message, state: str = "", search: str = "") -> QuerySet[User]:
    """The users a message reached, each with ``state_read_at`` and ``state_archived_at``.

    Targeted: the recipient rows. Global: every active user (and anyone who acted on it), with a
    state only where the user read or archived it. ``state`` is ``read``, ``unread`` or
    ``archived``; ``search`` matches 工号/学号 or name.
    """
    users = User.objects.alias(
        state=FilteredRelation("message_states", condition=Q(message_states__message=message))
    ).annotate(
        state_id=F("state__id"),
        state_read_at=F("state__read_at"),
        state_archived_at=F("state__archived_at"),
    )
    if message.is_global:
        users = users.filter(Q(is_active=True) | Q(state_id__isnull=False))
    else:
        users = users.filter(state_id__isnull=False)
    if state == "read":
        users = users.filter(state_read_at__isnull=False)
    elif state == "unread":
        users = users.filter(state_read_at__isnull=True)
    elif state == "archived":
        users = users.filter(state_archived_at__isnull=False)
    if search:
        users = users.filter(
            Q(username__icontains=search)
            | Q(last_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(name_pinyin__icontains=search)
        )
    return users.select_related("department", "school_class").order_by("username")


# --- The statistics report (admin) ------------------------------------------------------------
# Periods are bucketed in Python in Asia/Shanghai, so the report does not depend on the
# database's time-zone tables. The admin page (``admin_report``) and the Excel export
# (``exports``) present the same ``MessageReport``.


@dataclass
class ReportRow:
    label: str
    messages: int = 0
    audience: int = 0
    read: int = 0

    @property
    def rate(self) -> float | None:
        return read_rate(read=self.read, audience=self.audience)


@dataclass(frozen=True)
class ReportMessage:
    id: int
    title: str
    type: str
    priority: str
    is_global: bool
    sender: str
    published_at: datetime
    audience: int
    read: int
    category: str = ""

    @property
    def rate(self) -> float | None:
        return read_rate(read=self.read, audience=self.audience)


@dataclass
class MessageReport:
    date_from: date
    date_to: date
    granularity: str
    total: ReportRow
    periods: list[ReportRow]
    by_type: list[ReportRow]
    by_priority: list[ReportRow]
    by_department: list[ReportRow]
    by_class: list[ReportRow]
    by_category: list[ReportRow] = field(default_factory=list)
    messages: list[ReportMessage] = field(default_factory=list)


def _period_label(moment: datetime, granularity: str) -> str:
    day = timezone.localtime(moment).date()
    if granularity == "month":
        return day.strftime("%Y-%m")
    if granularity == "week":
        monday = day - timedelta(days=day.weekday())
        return f"{monday:%Y-%m-%d} 周"
    return day.isoformat()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def message_report_list(*, user: User, date_from: date, date_to: date) -> QuerySet[Message]:
    """Messages published in the period (up to now): all for a message-center administrator, the
    user's own otherwise."""
    queryset = Message.objects.filter(
        published_at__gte=_day_start(date_from),
        published_at__lt=_day_start(date_to + timedelta(days=1)),
        published_at__lte=timezone.now(),
    )
    if not message_center_admin(user=user):
        queryset = queryset.filter(sender=user)
    return queryset


def _targeted_breakdown(messages: QuerySet[Message], key: str, empty: str) -> list[ReportRow]:
    rows = (
        MessageRecipient.objects.filter(message__in=messages.filter(is_global=False).values("pk"))
        .values(label=F(key))
        .annotate(audience=Count("id"), read=Count("id", filter=Q(read_at__isnull=False)))
        .order_by("-audience")
    )
    return [ReportRow(label=r["label"] or empty, audience=r["audience"], read=r["read"]) for r in rows]


def message_report(*, user: User, date_from: date, date_to: date, granularity: str = "day") -> MessageReport:
    """Sent (audience), read and read rate per period, type, priority, department and class.

    Three queries: the messages with their read counts, then recipient rows grouped by the
    recipient's department and by class (targeted messages: their recipients are known).
    """
    messages = message_report_list(user=user, date_from=date_from, date_to=date_to)
    rows = list(
        with_read_total(messages.select_related("sender", "category")).order_by("-published_at", "-id")
    )
    total = ReportRow(label="合计")
    periods: dict[str, ReportRow] = {}
    types = {t.value: ReportRow(label=str(t.label)) for t in MessageType}
    priorities = {p.value: ReportRow(label=str(p.label)) for p in MessagePriority}
    by_category: dict[tuple, ReportRow] = {}
    for m in rows:
        category_key = (0, m.category.position, m.category_id) if m.category else (1, 0, 0)
        for bucket in (
            total,
            periods.setdefault(_period_label(m.published_at, granularity), ReportRow(label="")),
            types[m.type],
            priorities[m.priority],
            by_category.setdefault(
                category_key, ReportRow(label=m.category.name if m.category else "（未分类）")
            ),
        ):
            bucket.messages += 1
            bucket.audience += m.audience_size
            bucket.read += m.read_total
    for label, row in periods.items():
        row.label = label
    return MessageReport(
        date_from=date_from,
        date_to=date_to,
        granularity=granularity,
        total=total,
        periods=[periods[k] for k in sorted(periods)],
        by_type=list(types.values()),
        by_priority=list(priorities.values()),
        by_department=_targeted_breakdown(messages, "recipient__department__name", "（未分配系所）"),
        by_class=_targeted_breakdown(messages, "recipient__school_class__name", "（无班级）"),
        by_category=[by_category[k] for k in sorted(by_category)],
        messages=[
            ReportMessage(
                id=m.pk,
                title=m.title,
                type=m.get_type_display(),
                priority=m.get_priority_display(),
                is_global=m.is_global,
                sender=m.sender.full_name or m.sender.username if m.sender else "系统",
                published_at=timezone.localtime(m.published_at),
                audience=m.audience_size,
                read=m.read_total,
                category=m.category.name if m.category else "",
            )
            for m in rows
        ],
    )


# --- The admin's 今日概览 -------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageOverview:
    published: int  # messages published in the span (withdrawn ones left out)
    audience: int  # their recipients, summed
    read: int  # of those, how many have read
    latest: list  # the latest few, each with ``read_total``

    @property
    def rate(self) -> float | None:
        return read_rate(read=self.read, audience=self.audience)


def message_overview(*, start: datetime, end: datetime, latest: int = 5) -> MessageOverview:
    """The messages published within ``[start, end)`` with their read rate, overall and for the
    latest few: three queries, however many messages and readers."""
    published = Message.objects.filter(published_at__gte=start, published_at__lt=end, is_active=True)
    totals = published.aggregate(n=Count("id"), audience=Coalesce(Sum("audience_size"), 0))
    read = MessageRecipient.objects.filter(message__in=published.values("pk"), read_at__isnull=False).count()
    rows = list(
        with_read_total(published.only("id", "title", "published_at", "audience_size")).order_by(
            "-published_at", "-id"
        )[:latest]
    )
    for row in rows:
        row.read_rate = read_rate(read=row.read_total, audience=row.audience_size)
    return MessageOverview(published=totals["n"], audience=totals["audience"], read=read, latest=rows)
