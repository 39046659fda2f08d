"""One-pass loads that wrk's endless loop cannot express: every request sent exactly once, from
concurrent clients (threads of this process, each opening its own connection per request, as
phones do), with each request's latency measured around the whole exchange."""

import http.client
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

from django.db import close_old_connections
from django.utils import timezone

from .server import query_count


def _post(base_url: str, path: str, authorization: str, body: str) -> tuple[int, float]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    started = time.perf_counter()
    try:
        connection.request(
            "POST",
            path,
            body=body.encode(),
            headers={"Authorization": authorization, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0  # a transport error
    finally:
        connection.close()
    return status, (time.perf_counter() - started) * 1000


def run_once(
    base_url: str,
    jobs: list[Callable[[], tuple[str, str, str]]],
    *,
    concurrency: int,
    barrier: bool = False,
    rate: float | None = None,
) -> tuple[list[tuple[int, float]], float]:
    """Send each job's ``(path, authorization, body)`` once, ``concurrency`` at a time.

    A job is a callable so that its body can be made at the moment it is sent (a QR code that
    rotates). With ``barrier`` every client waits for the others before its first request
    (``concurrency`` simultaneous requests). With ``rate`` (requests per second) job *i* is not
    sent before *i / rate* seconds from the start: arrivals at a steady pace, as people walk up
    to the screen, rather than as fast as the server answers. Returns ``[(status, ms)]`` in job order and the
    seconds the whole pass took.
    """
    results: list[tuple[int, float] | None] = [None] * len(jobs)
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()
    gate = threading.Barrier(concurrency) if barrier else None

    started = 0.0

    def client():
        if gate is not None:
            gate.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            if rate:
                time.sleep(max(0.0, started + index / rate - time.perf_counter()))
            results[index] = _post(base_url, *jobs[index]())

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None], time.perf_counter() - started


def figures(results: list[tuple[int, float]], seconds: float) -> dict:
    latencies = sorted(ms for _, ms in results)
    statuses = Counter(status for status, _ in results)

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]
            if latencies
            else 0.0
        )

    return {
        "requests": len(results),
        "rps": len(results) / seconds if seconds else 0.0,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "errors": statuses.get(0, 0) + sum(n for s, n in statuses.items() if s >= 400),
        "non_2xx": sum(n for s, n in statuses.items() if s >= 300 or s == 0),
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
        "seconds": round(seconds, 2),
    }


def clockin_burst(
    base_url: str,
    tokens: list[tuple[int, str]],
    *,
    activity_name: str,
    probe: tuple[int, str] | None = None,
    seconds: float = 20,
    concurrency: int = 64,
) -> dict:
    """1 000 distinct users clock in to one item (its window opened just now, earlier records
    removed), each once, arriving at a steady pace over ``seconds`` (default 20 s: three times
    the pace of "1 000 within a minute"), from up to ``concurrency`` clients at once; then the database must hold exactly one
    record per user, none lost, none extra. The QR text of each scan is made with the server's
    secret at the moment it is sent, as the projector shows it. ``probe`` (another user) clocks in
    once beforehand to read the request's query count; that record is removed again."""
    from activities import qr
    from activities.models import Activity, ClockinItem, ClockinRecord, Enrollment

    activity = Activity.objects.get(name=activity_name)
    item = ClockinItem.objects.get(activity=activity, label="签到")
    now = timezone.now()
    ClockinRecord.objects.filter(item=item).delete()
    ClockinItem.objects.filter(pk=item.pk).update(
        from_time=now - timezone.timedelta(minutes=5), to_time=now + timezone.timedelta(hours=1)
    )
    Enrollment.objects.bulk_create(
        [Enrollment(activity=activity, user_id=uid) for uid, _ in [*tokens, *([probe] if probe else [])]],
        ignore_conflicts=True,
    )

    def job(key: str):
        return lambda: ("/activities/clockins/", f"Bearer {key}", json.dumps({"key": qr.make_key(item.pk)}))

    queries = None
    if probe is not None:
        queries = query_count(base_url, "POST", *job(probe[1])())
        ClockinRecord.objects.filter(item=item, user_id=probe[0]).delete()
    close_old_connections()

    results, took = run_once(
        base_url, [job(key) for _, key in tokens], concurrency=concurrency, rate=len(tokens) / seconds
    )
    out = figures(results, took)
    out["queries"] = queries
    recorded = list(ClockinRecord.objects.filter(item=item).values_list("user_id", flat=True))
    expected = {uid for uid, _ in tokens}
    ok_users = {uid for (uid, _), (status, _) in zip(tokens, results, strict=True) if status == 200}
    out["check"] = {
        "check": f"clock-in burst: records after {len(expected):,} scans",
        "target": "each user once, none lost, within a minute",
        "users": len(expected),
        "records": len(recorded),
        "distinct_users_recorded": len(set(recorded)),
        "lost": len(ok_users - set(recorded)),
        "unexpected": len(set(recorded) - expected),
        "within_a_minute": took < 60,
        "passed": sorted(recorded) == sorted(expected) and took < 60,
    }
    return out
