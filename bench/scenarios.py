"""The hot endpoints the benchmark drives.

Each scenario turns the bench context (users' tokens, the built data) into a list of requests,
``(method, path, Authorization header, JSON body)``, which wrk cycles through. Requests are built
right before their run (free booking slots are looked up then), from the database the server uses.
The clock-in burst is not a wrk loop but one pass of 1 000 distinct users (see ``bench.burst``).
"""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.utils import timezone

from .data import BURST_ACTIVITY, PASSWORD

Request = tuple[str, str, str, str]


@dataclass
class Context:
    tokens: list[tuple[int, str]]  # (user id, token key)
    usernames: list[str]


@dataclass
class Scenario:
    name: str
    build: Callable[[Context], list[Request]] | None = None
    target_p50_ms: float | None = None  # the target, checked in the report
    target_p99_ms: float | None = None  # a target for the loaded p99, where an issue sets one
    baseline: bool = False
    ceiling: bool = False  # the bare Django view: the limit of the framework on this machine
    # A throughput target: at least this fraction of the ceiling's (ping) or of ping's req/s.
    target_ratio: float | None = None
    runner: Callable | None = None  # a custom run instead of wrk: (base_url, context) -> figures


def _auth(key: str) -> str:
    return f"Bearer {key}"


def _each_user(path: str, method: str = "GET", body: str = "") -> Callable[[Context], list[Request]]:
    return lambda ctx: [(method, path, _auth(key), body) for _, key in ctx.tokens]


def _login(ctx: Context) -> list[Request]:
    return [
        (
            "POST",
            "/auth/get-token/",
            "",
            json.dumps({"username": name, "password": PASSWORD, "device": "bench"}),
        )
        for name in ctx.usernames
    ]


def _interleave(per_user: dict[str, list[Request]]) -> list[Request]:
    """Round-robin over users, so consecutive requests come from different people."""
    queues = list(per_user.values())
    out: list[Request] = []
    for i in range(max((len(q) for q in queues), default=0)):
        out.extend(q[i] for q in queues if i < len(q))
    return out


def _message_read(ctx: Context) -> list[Request]:
    """Each user marks up to five of their own unread messages read (then globals), one per request."""
    from messaging.models import Message, MessageRecipient
    from messaging.selectors import visible_q

    keys = dict(ctx.tokens)
    now = timezone.now()
    unread = (
        MessageRecipient.objects.filter(recipient_id__in=keys, read_at__isnull=True)
        .filter(visible_q(now=now, prefix="message__"))
        .values_list("recipient_id", "message_id")
    )
    per_user: dict[str, list[Request]] = {keys[uid]: [] for uid in keys}
    for uid, mid in unread:
        if len(per_user[keys[uid]]) < 5:
            per_user[keys[uid]].append(mid)
    globals_ = list(
        Message.objects.filter(visible_q(now=now), is_global=True).values_list("pk", flat=True)[:5]
    )
    return _interleave(
        {
            key: [
                ("POST", "/api/v1/messages/read", _auth(key), json.dumps({"message_ids": [mid]}))
                for mid in (mids or globals_)
            ]
            for key, mids in per_user.items()
        }
    )


def _contacts_search(ctx: Context) -> list[Request]:
    """Searches as people type them: a full name, its pinyin, or its initials."""
    from accounts.models import User

    rng = random.Random(7)
    people = User.objects.filter(username__startswith="U").values_list(
        "last_name", "first_name", "name_pinyin", "name_initials"
    )[:2000]
    requests = []
    for (_, key), (last, first, pinyin, initials) in zip(ctx.tokens, people, strict=False):
        term = rng.choice([last + first, pinyin, initials])
        requests.append(("GET", "/contacts/?" + urlencode({"search": term}), _auth(key), ""))
    return requests


def _local_midnights(ctx: Context, *, seed: int, days_ahead: tuple[int, int]):
    """``(token key, local midnight)`` for each user: a day ``days_ahead`` (inclusive) from today."""
    rng = random.Random(seed)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    for _, key in ctx.tokens:
        day = today + timedelta(days=rng.randint(*days_ahead))
        yield key, datetime.combine(day, datetime.min.time(), tz)


def _client_day(ctx: Context) -> list[Request]:
    """The mini-program's own call (C16): one local day as UTC ``query_from``/``query_to``, every
    room with its bookings and the bookers' phones as privacy allows."""

    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return [
        (
            "GET",
            "/meetingrooms/available/?"
            + urlencode({"query_from": utc(start), "query_to": utc(start + timedelta(days=1, seconds=-1))}),
            _auth(key),
            "",
        )
        for key, start in _local_midnights(ctx, seed=3, days_ahead=(0, 30))
    ]


def _availability(days: int) -> Callable[[Context], list[Request]]:
    """The seed-002 ``length`` search (60 minutes) over ``days`` days, starting on one of the next
    30 days (local midnight, the window's zone given as +08:00)."""

    def build(ctx: Context) -> list[Request]:
        return [
            (
                "GET",
                "/meetingrooms/available/?"
                + urlencode(
                    {
                        "time_from": start.isoformat(),
                        "time_to": (start + timedelta(days=days)).isoformat(),
                        "length": 60,
                    }
                ),
                _auth(key),
                "",
            )
            for key, start in _local_midnights(ctx, seed=days, days_ahead=(1, 30))
        ]

    return build


def free_slots(
    count: int, *, minutes: int = 60, rng: random.Random | None = None
) -> list[tuple[int, datetime]]:
    """Up to ``count`` distinct (room id, start) of ``minutes`` that no booking (nor another of the
    slots) overlaps, 2–40 days ahead within 08:00–22:00 (every room's bookable hours), in random
    order. Bookings lie on the half-hour grid, so occupancy is kept as a set of half-hour cells."""
    from reservations.models import Meetingroom, Reservation

    rng = rng or random.Random(11)
    tz = timezone.get_current_timezone()
    cell = timedelta(minutes=30)
    origin = datetime.combine(timezone.localdate() + timedelta(days=2), datetime.min.time(), tz)
    days = 38
    rooms = list(
        Meetingroom.objects.filter(is_active=True, name__startswith="B-").values_list("pk", flat=True)
    )
    taken: set[tuple[int, int]] = set()
    for room_id, b0, b1 in Reservation.objects.filter(
        meetingroom_id__in=rooms, reserve_from__lt=origin + timedelta(days=days), reserve_to__gt=origin
    ).values_list("meetingroom_id", "reserve_from", "reserve_to"):
        first = int((b0 - origin) // cell)
        taken.update((room_id, c) for c in range(max(first, 0), int(-(-(b1 - origin) // cell))))
    width = max(1, minutes // 30)
    slots: list[tuple[int, datetime]] = []
    for _ in range(count * 3):
        if len(slots) >= count or not rooms:
            break
        room = rng.choice(rooms)
        first = rng.randrange(days) * 48 + rng.randint(16, 44 - width)  # 08:00 … 22:00 - length
        cells = [(room, c) for c in range(first, first + width)]
        if taken.isdisjoint(cells):
            taken.update(cells)
            slots.append((room, origin + first * cell))
    return slots


def _booking(ctx: Context) -> list[Request]:
    """POST /reservations/ for distinct free one-hour slots, so most succeed (the status mix shows
    those that collide with each other or wrap around)."""
    slots = free_slots(6000)
    requests = []
    for i, (room, start) in enumerate(slots):
        key = ctx.tokens[i % len(ctx.tokens)][1]
        body = {
            "meetingroom_object": room,
            "reserve_from": start.isoformat(),
            "reserve_to": (start + timedelta(hours=1)).isoformat(),
            "description": "压测预约",
        }
        requests.append(("POST", "/reservations/", _auth(key), json.dumps(body)))
    return requests


def _repair_create(ctx: Context) -> list[Request]:
    from repairs.models import FaultCategory

    rng = random.Random(5)
    categories = list(FaultCategory.objects.filter(is_active=True).values_list("pk", flat=True))
    requests = []
    for _, key in ctx.tokens:
        body = {
            "location": f"勤学楼{rng.randint(1, 10)}{rng.randint(1, 30):02d}",
            "category": rng.choice(categories) if categories else None,
            "description": "投影仪无法开机，指示灯不亮。",
        }
        requests.append(("POST", "/repairs/", _auth(key), json.dumps(body)))
    return requests


def _clockin_burst(base_url: str, ctx: Context) -> dict:
    from .burst import clockin_burst

    probe = ctx.tokens[1000] if len(ctx.tokens) > 1000 else None
    return clockin_burst(base_url, ctx.tokens[:1000], activity_name=BURST_ACTIVITY, probe=probe)


SEARCH_QUERIES = ("考试", "科研项目", "讲", "会议", "注意查看")


def _message_search(ctx: Context) -> list[Request]:
    """Each user searches their inbox, the queries in turn (two characters, a phrase, one
    character, a phrase in every message's content)."""
    return [
        (
            "GET",
            "/api/v1/messages?" + urlencode({"search": SEARCH_QUERIES[i % len(SEARCH_QUERIES)]}),
            _auth(key),
            "",
        )
        for i, (_, key) in enumerate(ctx.tokens)
    ]


def _comment_page(ctx: Context) -> list[Request]:
    """The first page of the discussion message's comments (bench.discussion), for each user."""
    from .discussion import discussion_message_id

    return _each_user(f"/api/v1/messages/{discussion_message_id()}/comments")(ctx)


def _poll_votes(base_url: str, ctx: Context) -> dict:
    from .discussion import poll_votes

    return poll_votes(base_url, ctx.tokens)


def _official_robot(command: str) -> Callable[[Context], list[Request]]:
    from .official import robot_requests

    return lambda ctx: robot_requests(ctx.tokens, command)


def _official_subscribe(base_url: str, ctx: Context) -> dict:
    from .official import subscribe_storm

    return subscribe_storm(base_url)


def _chat_send(ctx: Context) -> list[Request]:
    from .chat import send_requests

    return send_requests(ctx.tokens)


def _chat_list(ctx: Context) -> list[Request]:
    from .chat import list_requests

    return list_requests(ctx.tokens)


def _chat_group_burst(base_url: str, ctx: Context) -> dict:
    from .chat import group_burst

    return group_burst(base_url, ctx.tokens)


def _page(name: str) -> Callable[[Context], list[Request]]:
    """A portal page for each bench user, signed in by a browser session."""

    def build(ctx: Context) -> list[Request]:
        from .pages import page_paths, session_cookies

        path = page_paths()[name]
        return [("GET", path, cookie, "") for cookie in session_cookies([pk for pk, _ in ctx.tokens[:500]])]

    return build


PAGE_SCENARIOS = [
    Scenario(f"page {name}", _page(name), target_p50_ms=50)
    for name in (
        "home",
        "inbox",
        "contacts",
        "contacts all",
        "contacts search",
        "rooms day",
        "rooms search (length)",
        "activities",
        "repairs",
        "guides",
        "me",
    )
]

SCENARIOS = [
    # The same requests as ping (each user's token in the header, ignored), to a plain Django view.
    Scenario("ceiling (bare Django view)", _each_user("/bench/ceiling"), ceiling=True),
    Scenario("baseline (ping)", _each_user("/api/v1/ping"), baseline=True, target_ratio=0.85),
    Scenario("login (password)", _login),
    Scenario("current user", _each_user("/current-user/"), target_ratio=0.75),
    Scenario("departments", _each_user("/departments/"), target_ratio=0.8),
    Scenario("repair categories", _each_user("/repairs/categories/"), target_ratio=0.8),
    Scenario("message unread-count", _each_user("/api/v1/messages/unread-count"), target_p50_ms=30),
    Scenario("message list", _each_user("/api/v1/messages"), target_p50_ms=30),
    Scenario("message stats", _each_user("/api/v1/messages/stats"), target_p50_ms=30),
    Scenario("message read", _message_read),
    Scenario("message search", _message_search, target_p50_ms=30),
    Scenario("message hot list (7 days)", _each_user("/api/v1/messages/hot?days=7"), target_p50_ms=30),
    Scenario("message comments page", _comment_page, target_p50_ms=20),
    Scenario("message poll votes ×500 (one poll)", runner=_poll_votes),
    Scenario("contacts page (my=yes)", _each_user("/contacts/?my=yes")),
    Scenario("contacts all (my=no)", _each_user("/contacts/?my=no")),
    Scenario("contacts search", _contacts_search),
    Scenario("availability client day (query_from)", _client_day),
    Scenario("availability 1 day (length)", _availability(1), target_p50_ms=50),
    Scenario("availability 1 week (length)", _availability(7), target_p50_ms=150),
    Scenario("booking (POST)", _booking),
    Scenario("activity list", _each_user("/activities/"), target_ratio=0.5),
    Scenario("clock-in burst (1 000 users)", runner=_clockin_burst, target_p50_ms=50),
    Scenario("repair create", _repair_create),
    Scenario("guide list", _each_user("/guides/"), target_ratio=0.5),
    Scenario("official robot 帮助 (webhook)", _official_robot("帮助"), target_p50_ms=20, target_p99_ms=200),
    Scenario("official robot 未读 (webhook)", _official_robot("未读"), target_p99_ms=200),
    Scenario("official subscribe ×3 (500 users)", runner=_official_subscribe),
    # Conversations (issue 14): the data builder's CHAT_USER has 500 conversations.
    Scenario("presence ping", _each_user("/api/v1/presence/ping", "POST"), target_p50_ms=5),
    Scenario("conversation send (text)", _chat_send, target_p50_ms=15),
    Scenario("conversation list (500 conversations)", _chat_list, target_p50_ms=30),
    Scenario("conversation unread badge", _each_user("/api/v1/conversations/unread"), target_p50_ms=5),
    Scenario("conversation group burst (1 000 sends)", runner=_chat_group_burst),
    *PAGE_SCENARIOS,
]
