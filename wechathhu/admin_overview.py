"""The admin home's 今日概览: what needs staff today, each figure linking to its filtered list.

Every number comes from its app's selector (a fixed number of queries each, whatever the data);
a block a member of staff may not view is neither shown nor computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from activities import selectors as activity_selectors
from activities.models import Activity
from messaging import selectors as message_selectors
from messaging.models import Message
from repairs import selectors as repair_selectors
from repairs.models import RepairRequest
from reservations import selectors as reservation_selectors
from reservations.models import Reservation
from wechathhu.core import outbox


@dataclass
class Figure:
    label: str
    value: int | str
    url: str | None = None
    alert: bool = False  # needs attention (shown in the warning colour)


@dataclass
class Block:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    headers: tuple[str, ...] = ()
    rows: list[dict] = field(default_factory=list)  # {"cells": [...], "url": ..., "name": ...}
    empty: str = ""


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0)))


def _filter_value(moment: datetime) -> str:
    """A datetime as the admin's date filters write it (local time with its offset)."""
    return str(timezone.localtime(moment))


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def overview(request, *, site) -> list[Block]:
    now = timezone.now()
    today = timezone.localdate(now)
    day_start, day_end = _day_start(today), _day_start(today + timedelta(days=1))
    week_start = _day_start(today - timedelta(days=today.weekday()))
    blocks = [
        _repairs(request, site, now),
        _bookings(request, site, day_start, day_end),
        _activities(request, site, day_start, day_end),
        _messages(request, site, week_start, week_start + timedelta(days=7)),
        _questions(request, site),
        _failed_deliveries(request, site),
    ]
    return [block for block in blocks if block is not None]


def _repairs(request, site, now) -> Block | None:
    if not site.may_view(request, RepairRequest):
        return None
    figures = repair_selectors.repair_overview(now=now)
    return Block(
        key="repairs",
        title="报修",
        figures=[
            Figure(
                "超时未解决",
                figures.overdue,
                site.changelist_url(request, RepairRequest, "overdue=yes"),
                alert=figures.overdue > 0,
            ),
            Figure(
                "待处理（未受理、处理中）",
                figures.open,
                site.changelist_url(request, RepairRequest, "status__in=pending,processing"),
            ),
        ],
    )


def _bookings(request, site, day_start, day_end) -> Block | None:
    if not site.may_view(request, Reservation):
        return None
    figures = reservation_selectors.reservation_overview(start=day_start, end=day_end)
    today = urlencode(
        {"reserve_from__gte": _filter_value(day_start), "reserve_from__lt": _filter_value(day_end)}
    )
    return Block(
        key="bookings",
        title="今日会议室预约",
        figures=[
            Figure("今日预约", figures.bookings, site.changelist_url(request, Reservation, today)),
            Figure(
                "时间冲突",
                figures.conflicts,
                site.changelist_url(request, Reservation, f"{today}&clash=yes"),
                alert=figures.conflicts > 0,
            ),
        ],
    )


ACTIVITIES_SHOWN = 10


def _activities(request, site, day_start, day_end) -> Block | None:
    if not site.may_view(request, Activity):
        return None
    activities = list(
        activity_selectors.activity_overview(start=day_start, end=day_end)[: ACTIVITIES_SHOWN + 1]
    )
    rows = []
    for activity in activities[:ACTIVITIES_SHOWN]:
        rate = activity_selectors.clockin_rate(
            clocked=activity.clocked_total, enrolled=activity.enrolled_total
        )
        start, end = timezone.localtime(activity.time_start), timezone.localtime(activity.time_end)
        rows.append(
            {
                "name": activity.name,
                "url": reverse(f"{site.name}:activities_activity_statistics", args=[activity.pk]),
                "cells": [
                    f"{start:%H:%M}–{end:%H:%M}" if start.date() == end.date() else f"{start:%m-%d %H:%M} 起",
                    activity.enrolled_total,
                    activity.clocked_total,
                    percent(rate),
                ],
            }
        )
    query = urlencode({"time_start__lt": _filter_value(day_end), "time_end__gt": _filter_value(day_start)})
    shown = len(activities) if len(activities) <= ACTIVITIES_SHOWN else f"{ACTIVITIES_SHOWN}+"
    return Block(
        key="activities",
        title="今日活动",
        figures=[Figure("今日进行的活动", shown, site.changelist_url(request, Activity, query))],
        headers=("活动", "时间", "已报名", "已打卡", "打卡率"),
        rows=rows,
        empty="今天没有活动。",
    )


def _messages(request, site, week_start, week_end) -> Block | None:
    if not site.may_view(request, Message):
        return None
    figures = message_selectors.message_overview(start=week_start, end=week_end)
    query = urlencode(
        {
            "published_at__gte": _filter_value(week_start),
            "published_at__lt": _filter_value(week_end),
            "is_active__exact": "1",
        }
    )
    return Block(
        key="messages",
        title="本周消息",
        figures=[
            Figure("本周发布", figures.published, site.changelist_url(request, Message, query)),
            Figure("总阅读率", percent(figures.rate)),
        ],
        headers=("消息", "发布时间", "接收人数", "已读", "阅读率"),
        rows=[
            {
                "name": message.title,
                "url": reverse(f"{site.name}:messaging_message_change", args=[message.pk]),
                "cells": [
                    f"{timezone.localtime(message.published_at):%m-%d %H:%M}",
                    message.audience_size,
                    message.read_total,
                    percent(message.read_rate),
                ],
            }
            for message in figures.latest
        ],
        empty="本周还没有发布消息。",
    )


def _questions(request, site) -> Block | None:
    """Private questions awaiting an answer, once the message center has them: its selectors
    offer ``question_list_awaiting()`` (a queryset of the questions) and, optionally,
    ``QUESTION_AWAITING_ADMIN_QUERY`` (the changelist's filter for them)."""
    awaiting = getattr(message_selectors, "question_list_awaiting", None)
    if awaiting is None:
        return None
    questions = awaiting()
    if not site.may_view(request, questions.model):
        return None
    count = questions.count()
    query = getattr(message_selectors, "QUESTION_AWAITING_ADMIN_QUERY", "")
    return Block(
        key="questions",
        title="待回复的私信提问",
        figures=[
            Figure("待回复", count, site.changelist_url(request, questions.model, query), alert=count > 0)
        ],
    )


def _failed_deliveries(request, site) -> Block | None:
    models = [model for model in outbox.delivery_models() if site.may_view(request, model)]
    if not models:
        return None
    counts = outbox.failed_counts(models)
    figures = [
        Figure(
            str(model._meta.verbose_name),
            count,
            site.changelist_url(request, model, "status__exact=failed"),
            alert=True,
        )
        for model, count in counts.items()
        if count
    ]
    return Block(key="failed", title="发送失败", figures=figures, empty="没有发送失败的记录。")
