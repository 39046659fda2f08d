"""The domain targets that are not a stream of HTTP requests: service-call times, a race for one
booking slot, the clock-in filter. Each returns a row for the report (``passed`` against its
target) and removes what it wrote, so runs stay comparable."""

import json
import random
import re
import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from . import data
from .burst import run_once


def _timed(fn, runs: int) -> tuple[list[float], list]:
    times, results = [], []
    for _ in range(runs):
        started = time.perf_counter()
        results.append(fn())
        times.append((time.perf_counter() - started) * 1000)
    return times, results


def global_send(runs: int = 20) -> dict:
    """Sending a global message (the API's service, as the sender's request runs it): < 50 ms,
    whatever the user count, since it writes no per-user rows."""
    from messaging import services
    from messaging.models import Message

    staff = data.bench_staff()
    times, messages = _timed(
        lambda: services.message_create(
            sender=staff, title="[bench] 全体通知", content="压测", is_global=True
        ),
        runs,
    )
    Message.objects.filter(pk__in=[m.pk for m in messages]).delete()
    p50 = statistics.median(times)
    return {
        "check": "send a global message (service call)",
        "target": "< 50 ms",
        "runs": runs,
        "p50_ms": round(p50, 1),
        "max_ms": round(max(times), 1),
        "users": data.User.objects.filter(is_active=True).count(),
        "passed": p50 < 50,
    }


def targeted_send(recipients: int = 10_000, runs: int = 3) -> dict:
    """A message to 10 000 listed users, every recipient row written when the call returns: < 2 s."""
    from messaging import services
    from messaging.models import Message, MessageRecipient

    staff = data.bench_staff()
    ids = [pk for pk, *_ in data.bench_users()]
    rng = random.Random(3)
    chosen = [rng.sample(ids, min(recipients, len(ids))) for _ in range(runs)]
    times, messages = [], []
    for run in range(runs):
        started = time.perf_counter()
        messages.append(
            services.message_create(
                sender=staff, title="[bench] 定向通知", content="压测", recipient_ids=chosen[run]
            )
        )
        times.append((time.perf_counter() - started) * 1000)
    written = [MessageRecipient.objects.filter(message=m).count() for m in messages]
    Message.objects.filter(pk__in=[m.pk for m in messages]).delete()
    worst = max(times)
    return {
        "check": f"send a message to {len(chosen[0]):,} listed users (all rows written)",
        "target": "< 2 s",
        "runs": runs,
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(worst, 1),
        "rows_written": written,
        "passed": worst < 2000 and all(n == len(chosen[0]) for n in written),
    }


def same_slot(base_url: str, tokens: list[tuple[int, str]], requests: int = 50) -> dict:
    """50 users ask for the same free slot at the same moment (through gunicorn's workers): exactly
    one booking is made, the others are told the room is taken (400)."""
    from reservations.models import Reservation

    from .scenarios import free_slots

    (room, start), *_ = free_slots(1, rng=random.Random(time.time_ns()))
    body = json.dumps(
        {
            "meetingroom_object": room,
            "reserve_from": start.isoformat(),
            "reserve_to": (start + timedelta(hours=1)).isoformat(),
            "description": "同一时段并发预约",
        }
    )
    jobs = [lambda key=key: ("/reservations/", f"Bearer {key}", body) for _, key in tokens[:requests]]
    results, _ = run_once(base_url, jobs, concurrency=len(jobs), barrier=True)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    booked = Reservation.objects.filter(
        meetingroom_id=room, reserve_from__lt=start + timedelta(hours=1), reserve_to__gt=start
    ).count()
    return {
        "check": f"{len(jobs)} concurrent requests for the same slot",
        "target": "exactly one booking",
        "statuses": statuses,
        "bookings_in_db": booked,
        "passed": booked == 1 and statuses.get("201") == 1 and statuses.get("400") == len(jobs) - 1,
    }


def clockin_filter(expression: str = "签到了但未签退", runs: int = 5) -> dict:
    """The clock-in filter on the activity of 5 000 enrollments: the filtered list in one query
    (besides looking up the activity's item labels), under 200 ms."""
    from activities.models import Activity, ClockinItem, Enrollment
    from activities.selectors import enrollment_clockin_filter_q

    activity = Activity.objects.get(name=data.BURST_ACTIVITY)
    enrollments = Enrollment.objects.filter(activity=activity).count()
    times, counts, queries = [], [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            item_ids = dict(ClockinItem.objects.filter(activity=activity).values_list("label", "pk"))
            condition = enrollment_clockin_filter_q(expression, item_ids=item_ids)
            rows = list(
                Enrollment.objects.filter(activity=activity).filter(condition).values_list("pk", "user_id")
            )
            times.append((time.perf_counter() - started) * 1000)
        counts.append(len(rows))
        queries.append(len(captured.captured_queries) - 1)  # without the label look-up
    p50 = statistics.median(times)
    return {
        "check": f"clock-in filter 「{expression}」 on an activity of {enrollments:,} enrollments",
        "target": "1 query, < 200 ms",
        "runs": runs,
        "p50_ms": round(p50, 1),
        "max_ms": round(max(times), 1),
        "matches": counts[-1],
        "queries": max(queries),
        "passed": p50 < 200 and max(queries) == 1,
    }


def _busiest_teachers(count: int) -> list:
    """Bench teachers (they see the most: their department's, their classes', the teachers' and
    the global messages)."""
    return list(data.User.objects.filter(username__startswith="U", kind="teacher").order_by("pk")[:count])


def message_search(queries: tuple[str, ...] = ("考试", "科研项目", "讲"), runs: int = 5) -> dict:
    """Full-text search of the inbox (issue 20 item 6) as ``GET /api/v1/messages?search=`` runs it
    (the count, the first page of 10 from the bigram index, ranked, and its attachments): p50 < 30 ms
    on MariaDB,
    constant queries."""
    from messaging import selectors

    users = _busiest_teachers(3) or list(data.User.objects.filter(username__startswith="U")[:3])
    times, queries_run, hits = [], [], {}
    for query in queries:
        for user in users:
            for _ in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    inbox = selectors.message_inbox(user=user, filters={"search": query})
                    total = inbox.count()
                    page = inbox[0:10]
                    times.append((time.perf_counter() - started) * 1000)
                queries_run.append(len(captured.captured_queries))
            hits[query] = total
            assert len(page) == min(10, total)
    p50 = statistics.median(times)
    visible = selectors.message_inbox(user=users[0]).count() if users else 0
    return {
        "check": f"message search {'、'.join(f'「{q}」' for q in queries)} (inbox of {visible:,} messages)",
        "target": "p50 < 30 ms, 4 queries",
        "runs": len(times),
        "p50_ms": round(p50, 1),
        "max_ms": round(max(times), 1),
        "matches": hits,
        "queries": max(queries_run),
        "passed": p50 < 30 and max(queries_run) == 4,
    }


# A query that reads poll rows for the page (options, my vote, its options), not the list itself.
POLL_PREFETCH = re.compile(r'^SELECT \(?[`"]messaging_poll')


def hot_list(days: int = 7, runs: int = 5) -> dict:
    """The hot list (``GET /api/v1/messages/hot?days=7``): the window's visible messages ranked by
    reads, count and first page: p50 < 30 ms, constant queries."""
    from messaging import hot

    users = _busiest_teachers(3) or list(data.User.objects.filter(username__startswith="U")[:3])
    times, queries_run = [], []
    for user in users:
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                ranked = hot.message_hot_list(user=user, days=days)
                total = ranked.count()
                list(ranked[:10])  # the first page, as the endpoint reads it
                times.append((time.perf_counter() - started) * 1000)
            # A page with a poll (bench.discussion's) prefetches its options and my vote (with the
            # vote's options once I have voted): up to 3 more, whatever the page's length.
            queries_run.append(sum(not POLL_PREFETCH.match(q["sql"]) for q in captured.captured_queries))
    p50 = statistics.median(times)
    return {
        "check": f"hot list ({days} days, {total:,} messages in the window)",
        "target": "p50 < 30 ms, 4 queries (not counting a poll's prefetches)",
        "runs": len(times),
        "p50_ms": round(p50, 1),
        "max_ms": round(max(times), 1),
        "queries": max(queries_run),
        "passed": p50 < 30 and max(queries_run) == 4,
    }
