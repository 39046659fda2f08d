"""Query parameters of ``GET /meetingrooms/available/``, in both forms.

Every problem is a 400 ``{"detail": …}`` saying what is wrong (the client shows ``detail``).
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from reservations import selectors
from wechathhu.core.errors import ApplicationError

from ..errors import ReservationErrorCode as Code

BAD_QUERY_TIMES = "查询的开始和结束时间必须以正确格式给定。"
BAD_SEARCH_TIMES = "查询的开始和结束时间（time_from、time_to）必须以正确格式给定。"
BAD_PEOPLE = "开会人数（people_count）必须是整数。"
# A "+08:00" offset sent unencoded in a query string arrives as " 08:00".
_SPACE_OFFSET = re.compile(r"^(.*\d)\s(\d{2}:?\d{2})$")


def is_search_form(params) -> bool:
    """Seed 002's search (``time_from``/``time_to``) rather than the client's view (``query_*``)."""
    uses_client_form = "query_from" in params or "query_to" in params
    return not uses_client_form and ("time_from" in params or "time_to" in params)


def parse_time(raw: str | None) -> datetime | None:
    """An ISO-8601 datetime keeping its own offset (naive means local time); None if unusable."""
    if not raw:
        return None
    try:
        value = parse_datetime(_SPACE_OFFSET.sub(r"\1+\2", raw.strip()))
    except ValueError:
        return None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def parse_int(params, name: str, message: str) -> int | None:
    raw = params.get(name, "").strip()
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApplicationError(message, code=Code.INVALID_QUERY) from None


def parse_window(params, start_name: str, end_name: str, *, message: str) -> tuple[datetime, datetime]:
    start, end = parse_time(params.get(start_name)), parse_time(params.get(end_name))
    if start is None or end is None:
        raise ApplicationError(message, code=Code.INVALID_QUERY)
    selectors.search_window_check(start=start, end=end)
    return start, end


@dataclass(frozen=True)
class ClientQuery:
    start: datetime
    end: datetime
    people_count: int


def parse_client_query(params) -> ClientQuery:
    start, end = parse_window(params, "query_from", "query_to", message=BAD_QUERY_TIMES)
    return ClientQuery(start, end, max(parse_int(params, "people_count", BAD_PEOPLE) or 0, 0))


@dataclass(frozen=True)
class SearchQuery:
    start: datetime
    end: datetime
    length: timedelta | None
    people_count: int
    label: str
    location: str
    tz: tzinfo  # the zone of ``time_from``: choices are answered in it


def parse_search_query(params) -> SearchQuery:
    start, end = parse_window(params, "time_from", "time_to", message=BAD_SEARCH_TIMES)
    length_minutes = parse_int(params, "length", "预约时长（length）必须是整数（分钟）。")
    length = selectors.search_length_check(minutes=length_minutes)
    selectors.search_end_check(end=end)
    return SearchQuery(
        start=start,
        end=end,
        length=length,
        people_count=max(parse_int(params, "people_count", BAD_PEOPLE) or 0, 0),
        label=params.get("label", "").strip()[:32],
        location=params.get("location", "").strip()[:128],
        tz=start.tzinfo,
    )
