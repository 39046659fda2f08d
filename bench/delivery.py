"""The delivery family (issue 13): ``python -m bench --only delivery``.

A message to ``10 000 × scale`` bound users, published through the API of the stack as deployed
(gunicorn, a Celery worker, Redis), its pushes made by the worker to a local fake WeChat
(``official.tests.fake_wechat``, in this process, counting every push per openid):

* every delivery row written within 2 s of the publishing request (and, in this process, the
  publishing step for 10 000 recipients timed inside a transaction that is rolled back);
* every push within the channel's rate (``OUTBOX_RATES``), counted per clock second at the fake;
* the worker killed (SIGKILL, its pool with it) a third of the way through and started again:
  no openid pushed twice, none missing (the bench plays beat's ``outbox.sweep`` every few seconds);
* the message's delivery report (``GET /api/v1/admin/messages/{id}/delivery``) < 50 ms;
* the daily digest's beat job for ``50 000 × scale`` users with ``5 000 × scale`` subscribers:
  < 1 s for a usual minute and for the busiest one (every subscriber at the same time).

Each check removes what it wrote (the bound openids stay: binding is idempotent).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager

from django.db import close_old_connections, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from . import data
from .official import OFFICIAL

MP_PREFIX = "oDLMP"  # mini-program openids of the bench users bound here
OA_PREFIX = "oDLOA"  # official-account followers made here
TITLE = "[bench] 投递"
FANOUT_FULL = 10_000
DIGEST_SUBSCRIBERS_FULL = 5_000
DIGEST_SPREAD_MINUTES = 120  # subscribers' times spread over 07:00–08:59
SWEEP_EVERY = 3.0  # seconds: the bench plays beat's outbox.sweep
LEASE_SECONDS = 10  # the dead worker's rows are taken over after this
STALL_SECONDS = 60  # the live run gives up waiting once no row has finished for this long

# The server's settings for the family (both WeChat channels on, against the fake) …
DELIVERY_ENV = {
    "WECHAT_ENABLED": "true",
    "WECHAT_APP_ID": "wxbenchmini000001",
    "WECHAT_APP_SECRET": "bench-mini-secret",
    "MESSAGING_WECHAT_TEMPLATE_ID": "BENCH-TPL-MP",
    "MESSAGING_OFFICIAL_TEMPLATE_ID": "BENCH-TPL-OA",
    "MESSAGING_PUSH_CHANNELS": "wechat,wechat_oa",
    "MESSAGING_PUSH_MIN_PRIORITY": "normal",
    "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    "OUTBOX_SWEEP_GRACE_SECONDS": "5",
}
# … and the same for the work done in this process (the rolled-back fan-out, the digest job, the sweep).
DELIVERY_SETTINGS = {
    "WECHAT_ENABLED": True,
    "WECHAT_APP_ID": DELIVERY_ENV["WECHAT_APP_ID"],
    "WECHAT_APP_SECRET": DELIVERY_ENV["WECHAT_APP_SECRET"],
    "WECHAT_OFFICIAL_APP_ID": OFFICIAL["WECHAT_OFFICIAL_APP_ID"],
    "WECHAT_OFFICIAL_APP_SECRET": OFFICIAL["WECHAT_OFFICIAL_APP_SECRET"],
    "WECHAT_OFFICIAL_TOKEN": OFFICIAL["WECHAT_OFFICIAL_TOKEN"],
    "MESSAGING_WECHAT_TEMPLATE_ID": DELIVERY_ENV["MESSAGING_WECHAT_TEMPLATE_ID"],
    "MESSAGING_OFFICIAL_TEMPLATE_ID": DELIVERY_ENV["MESSAGING_OFFICIAL_TEMPLATE_ID"],
    "MESSAGING_PUSH_CHANNELS": ["wechat", "wechat_oa"],
    "MESSAGING_PUSH_MIN_PRIORITY": "normal",
    "OUTBOX_LEASE_SECONDS": LEASE_SECONDS,
    "OUTBOX_SWEEP_GRACE_SECONDS": 5,
}
KINDS = {"wechat": "subscribe", "wechat_oa": "template"}  # the fake's name for each channel's push
BUCKETS = {"subscribe": "wechat_mp", "template": "wechat_oa"}  # OUTBOX_RATES' name for each


def sizes(scale: float) -> dict:
    return {
        "fanout": max(10, int(FANOUT_FULL * scale)),
        "digest_subscribers": max(5, int(DIGEST_SUBSCRIBERS_FULL * scale)),
    }


@contextmanager
def in_process(**extra):
    """This process's settings for the family (WeChat on, against the fake at ``extra``'s URL)."""
    with override_settings(**DELIVERY_SETTINGS, **extra):
        yield


def bench_user_ids(count: int) -> list[int]:
    return [pk for pk, *_ in data.bench_users()[:count]]


def bind(user_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Make these users reachable on WeChat: every other one follows the official account (template
    messages), the rest have the mini-program only (subscribe messages); a user who already follows
    the account keeps it. Returns ``{user id: (the fake's push kind, openid)}`` — where the
    delivery rules will push them (the official account comes first)."""
    from accounts.models import User
    from official.models import Follower

    now = timezone.now()
    following = dict(
        Follower.objects.filter(user_id__in=user_ids, subscribed=True).values_list("user_id", "openid")
    )
    to_follow = [pk for n, pk in enumerate(user_ids) if n % 2 == 0 and pk not in following]
    Follower.objects.filter(user_id__in=to_follow).update(user=None)  # an unsubscribed old one
    openids = {pk: f"{OA_PREFIX}{pk:022d}" for pk in to_follow}
    Follower.objects.filter(openid__in=openids.values()).delete()  # this bench's own, from a run before
    Follower.objects.bulk_create(
        [
            Follower(openid=openid, user_id=pk, bound_at=now, subscribed=True, subscribed_at=now)
            for pk, openid in openids.items()
        ],
        batch_size=2000,
    )
    following.update(
        Follower.objects.filter(user_id__in=to_follow, subscribed=True).values_list("user_id", "openid")
    )
    mini = [pk for pk in user_ids if pk not in following]
    User.objects.filter(pk__in=mini).update(
        wechat_openid=Concat(Value(MP_PREFIX), Cast("pk", output_field=CharField()))
    )
    return {
        pk: ("template", following[pk]) if pk in following else ("subscribe", f"{MP_PREFIX}{pk}")
        for pk in user_ids
    }


def staff_token() -> str:
    from accounts.models import AuthToken

    staff = data.bench_staff()
    token = AuthToken.objects.filter(user=staff, device="bench").first()
    if token is None:
        token = AuthToken.objects.create(user=staff, device="bench", last_used_at=timezone.now())
    AuthToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.key


def _request(base_url: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        base_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def warm_workers(base_url: str, token: str, *, concurrent: int = 16, rounds: int = 2) -> None:
    """Send authenticated admin requests to the stack ``concurrent`` at a time, so that every
    gunicorn worker has served one before a timed request. A worker's first request costs ~1 s
    more on the loaded machine (measured in-process: WhiteNoise's lazy scan of the static files,
    the authentication path's lazy imports, a garbage collection over the freshly imported
    modules): the fan-out's publishing POST paid it whenever it was a worker's first, and the
    answer went from ~0.4 s to ~1.8 s."""
    from concurrent.futures import ThreadPoolExecutor

    path = reverse("messaging:admin-message-list") + "?page_size=1"
    with ThreadPoolExecutor(concurrent) as pool:
        for _ in range(rounds):
            list(pool.map(lambda _n: _request(base_url, "GET", path, token), range(concurrent)))


class _RolledBack(Exception):
    pass


# --- The publishing step at 10 000 recipients, rolled back --------------------------------------------


def fanout_rows(recipients: int = FANOUT_FULL) -> dict:
    """The publishing step of a message to ``recipients`` bound users (their delivery rows written
    and queued), timed in this process inside a transaction that is rolled back: nothing is sent."""
    from messaging import services
    from messaging.models import MessageDelivery

    staff = data.bench_staff()
    ids = bench_user_ids(recipients)
    figures = {}
    try:
        with in_process(), transaction.atomic():
            bind(ids)
            started = time.perf_counter()
            message = services.message_send(sender=staff, title=TITLE, content="压测", recipient_ids=ids)
            figures["send_ms"] = round((time.perf_counter() - started) * 1000, 1)
            started = time.perf_counter()
            services.message_publish(message_id=message.pk)
            figures["publish_ms"] = round((time.perf_counter() - started) * 1000, 1)
            figures["rows_written"] = MessageDelivery.objects.filter(message=message).count()
            raise _RolledBack
    except _RolledBack:
        pass
    return {
        "check": f"publishing step: delivery rows for {len(ids):,} bound users (in-process, rolled back)",
        "target": "< 2 s",
        **figures,
        "passed": figures["publish_ms"] < 2000 and figures["rows_written"] == len(ids),
    }


# --- Live: publish through the API, kill the worker, count at the fake ----------------------------------


def _wait(condition, seconds: float, *, every: float = 0.05, on_tick=None):
    deadline = time.monotonic() + seconds
    while True:
        close_old_connections()
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        if on_tick:
            on_tick()
        time.sleep(every)


def live_fanout(
    base_url: str, worker, fake, token: str, recipients: int, *, kill_at: float = 1 / 3
) -> tuple[list[dict], int]:
    """Publish a message to ``recipients`` bound users through the API; kill the worker once
    ``kill_at`` of the pushes are made and start a new one; wait until every row is finished.
    Returns the check rows and the message's id."""
    from django.conf import settings

    from messaging.models import MessageDelivery
    from wechathhu.core import outbox

    ids = bench_user_ids(recipients)
    with in_process():
        expected = bind(ids)
    close_old_connections()
    warm_workers(base_url, token)
    body = {
        "title": TITLE,
        "content": "压测",
        "type": "notification",
        "priority": "normal",
        "recipient_ids": ids,
    }
    started = time.perf_counter()
    status, answer = _request(base_url, "POST", reverse("messaging:admin-message-list"), token, body)
    if status != 201:
        raise RuntimeError(f"publishing answered {status}: {answer}")
    answered_ms = (time.perf_counter() - started) * 1000
    message_id = answer["data"]["id"]
    rows = MessageDelivery.objects.filter(message_id=message_id)
    written = _wait(lambda: rows.count() >= len(ids), 60, every=0.02)
    rows_ms = (time.perf_counter() - started) * 1000

    # Kill the worker a third of the way through (SIGKILL: no shutdown, no ack), start a new one.
    _wait(lambda: rows.filter(status="sent").count() >= len(ids) * kill_at, 600, every=0.1)
    worker.kill()
    at_kill = outbox.status_counts(rows)
    in_flight = set(rows.filter(status="sending").values_list("recipient_id", flat=True))
    time.sleep(1)
    worker.start()

    last_sweep = [time.monotonic()]

    def sweep():
        if time.monotonic() - last_sweep[0] >= SWEEP_EVERY:
            with in_process():
                outbox.sweep()
            last_sweep[0] = time.monotonic()

    # Until every row is finished, for as long as rows keep finishing: on a loaded machine the
    # worker's CPU, not the rate, sets the pace (~12 pushes/s at a load of 11), and a fixed budget
    # ended the wait with the last push still in flight. It stops after STALL_SECONDS without one.
    pending = rows.filter(status__in=outbox.PENDING_STATUSES)
    progress = {"left": pending.count(), "at": time.monotonic()}

    def finished_or_stalled():
        left = pending.count()
        if left < progress["left"]:
            progress.update(left=left, at=time.monotonic())
        return left == 0 or time.monotonic() - progress["at"] > STALL_SECONDS

    budget = len(ids) / max(1, min(settings.OUTBOX_RATES.get(b, 50) or 50 for b in BUCKETS.values())) + 120
    _wait(finished_or_stalled, max(budget, 3600), every=0.5, on_tick=sweep)
    time.sleep(2)  # a redelivered task or a late sweep that would push again has its chance
    finished = outbox.status_counts(rows)

    # At the fake: each openid the rules chose pushed once, nothing else pushed.
    with fake.lock:
        pushes = list(fake.pushes)
    counts = Counter(openid for _at, _kind, openid in pushes)
    wanted = {openid for _kind, openid in expected.values()}
    doubled = {openid: n for openid, n in counts.items() if n > 1}
    missing = wanted - set(counts)
    unexpected = set(counts) - wanted
    channel_of = dict(rows.values_list("recipient_id", "channel"))
    wrong_channel = sum(
        1 for pk, (kind, _openid) in expected.items() if KINDS.get(channel_of.get(pk)) != kind
    )
    # Rows whose call was cut off by the kill are failed as "interrupted", never pushed again by
    # themselves (WeChat may or may not have them): at the fake, each is there once or not at all.
    interrupted = {
        expected[pk][1]
        for pk in rows.filter(status="failed", reason="interrupted").values_list("recipient_id", flat=True)
    }

    # The pace: pushes per clock second, per channel.
    pace = {}
    for kind, bucket in BUCKETS.items():
        times = sorted(at for at, k, _openid in pushes if k == kind)
        if not times:
            continue
        per_second = Counter(int(at) for at in times)
        rate = int(settings.OUTBOX_RATES.get(bucket, 0) or 0)
        pace[bucket] = {
            "rate": rate,
            "pushes": len(times),
            "max_per_second": max(per_second.values()),
            "mean_per_second": round(len(times) / max(1.0, times[-1] - times[0]), 1),
        }
    checks = [
        {
            "check": f"fan-out to {len(ids):,} bound users through the API: every delivery row written",
            "target": "< 2 s after publishing",
            "answered_ms": round(answered_ms, 1),
            "rows_ms": round(rows_ms, 1),
            "rows": rows.count(),
            "wrong_channel": wrong_channel,
            "passed": bool(written) and rows_ms < 2000 and wrong_channel == 0,
        },
        {
            "check": "pushes within OUTBOX_RATES (per clock second at the fake, per channel)",
            "target": "max per second ≤ rate",
            **{
                bucket: f"{p['pushes']} pushes, max {p['max_per_second']}/s, mean {p['mean_per_second']}/s, rate {p['rate']}/s"
                for bucket, p in pace.items()
            },
            "passed": all(p["max_per_second"] <= p["rate"] for p in pace.values() if p["rate"]),
        },
        {
            "check": f"worker SIGKILLed after {at_kill['sent']:,} of {len(ids):,} pushes, restarted",
            "target": "each openid pushed once, none missing (but a call the kill cut off: interrupted)",
            "at_kill": {k: v for k, v in at_kill.items() if v},
            "finished": {k: v for k, v in finished.items() if v},
            "pushed_openids": len(counts),
            "in_flight_at_kill": len(in_flight),
            "interrupted": len(interrupted),
            "doubled": len(doubled),
            "missing": len(missing - interrupted),
            "interrupted_not_at_fake": len(missing & interrupted),
            "unexpected": len(unexpected),
            "passed": finished["sent"] + len(interrupted) == len(ids)
            and not doubled
            and not (missing - interrupted)
            and not unexpected,
        },
    ]
    return checks, message_id


def report_check(base_url: str, token: str, message_id: int, runs: int = 20) -> dict:
    """The delivery report of the fanned-out message, one request at a time."""
    path = reverse("messaging:admin-message-delivery", args=[message_id])
    _request(base_url, "GET", path, token)  # a worker's first request opens its connection
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        status, answer = _request(base_url, "GET", path, token)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"the report answered {status}: {answer}")
    figures = answer["data"]
    p50 = statistics.median(times)
    # The machine's own pace for scale: the cheapest authenticated request, the same way.
    ping = []
    for _ in range(runs):
        started = time.perf_counter()
        _request(base_url, "GET", "/api/v1/ping", token)
        ping.append((time.perf_counter() - started) * 1000)
    return {
        "check": f"delivery report of the message to {figures['audience_size']:,} (GET …/delivery)",
        "target": "< 50 ms",
        "runs": runs,
        "p50_ms": round(p50, 1),
        "max_ms": round(max(times), 1),
        "ping_p50_ms": round(statistics.median(ping), 1),
        "reached": figures["reached"],
        "passed": p50 < 50,
    }


def cleanup_message(message_id: int) -> None:
    from messaging.models import Message

    Message.objects.filter(pk=message_id).delete()


# --- The digest's beat job ----------------------------------------------------------------------------------


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def digest_check(subscribers: int) -> list[dict]:
    """The daily digest's beat job with ``subscribers`` of the bench users subscribed: a usual
    minute (times spread over two hours, the job run minute after minute) and the busiest one
    (every subscriber at 07:30). The job writes and queues the rows: run it with no worker
    consuming the queue (the rows are removed afterwards, so a late worker finds nothing to send)."""
    from messaging.digest import digests_queue_due
    from messaging.models import DeliveryPreference, DigestDelivery

    users = data.User.objects.filter(is_active=True).count()
    ids = bench_user_ids(subscribers)
    day = timezone.localdate() + dt.timedelta(days=1)  # tomorrow: no real digest of today is touched

    def subscribe(time_of):
        DeliveryPreference.objects.filter(user_id__in=ids).delete()
        DeliveryPreference.objects.bulk_create(
            [
                DeliveryPreference(user_id=pk, digest_enabled=True, digest_time=time_of(n))
                for n, pk in enumerate(ids)
            ],
            batch_size=2000,
        )
        DigestDelivery.objects.filter(user_id__in=ids, date=day).delete()

    def timed(hour, minute):
        started = time.perf_counter()
        written = digests_queue_due(now=_local(day, hour, minute))
        return round((time.perf_counter() - started) * 1000, 1), written

    rows = []
    try:
        with in_process():
            spread = DIGEST_SPREAD_MINUTES

            subscribe(lambda n: dt.time(7 + (n % spread) // 60, (n % spread) % 60))
            timed(7, 59)  # catches up 07:49–07:59 (the window a missed run would cover)
            usual = [timed(8, minute) for minute in range(5)]  # then minute after minute
            worst_ms = max(ms for ms, _written in usual)
            rows.append(
                {
                    "check": f"digest job, usual minute ({subscribers:,} subscribers over {spread} min, {users:,} users)",
                    "target": "< 1 s",
                    "per_minute_ms": [ms for ms, _ in usual],
                    "rows_per_minute": [written for _, written in usual],
                    "passed": worst_ms < 1000,
                }
            )
            subscribe(lambda n: dt.time(7, 30))
            timed(7, 29)
            busiest_ms, written = timed(7, 30)
            again_ms, again = timed(7, 31)  # nothing left: the job is cheap again
            rows.append(
                {
                    "check": f"digest job, busiest minute (all {subscribers:,} subscribers at 07:30)",
                    "target": "< 1 s",
                    "ms": busiest_ms,
                    "rows_written": written,
                    "next_minute_ms": again_ms,
                    "next_minute_rows": again,
                    "passed": busiest_ms < 1000 and written == len(ids) and again == 0,
                }
            )
    finally:
        DigestDelivery.objects.filter(user_id__in=ids, date=day).delete()
        DeliveryPreference.objects.filter(user_id__in=ids).delete()
    return rows


def run_family(base_url: str, worker, fake, scale: float) -> list[dict]:
    """Every check of the family against a running stack (its worker may be killed and restarted)."""
    size = sizes(scale)
    available = len(data.bench_users())  # --delivery-full-sizes on a smaller data set: all there are
    size = {name: min(count, available) for name, count in size.items()}
    results = [fanout_rows(min(FANOUT_FULL, available))]
    token = staff_token()
    live, message_id = live_fanout(base_url, worker, fake, token, size["fanout"])
    results += live
    results.append(report_check(base_url, token, message_id))
    cleanup_message(message_id)
    worker.stop()  # the digest rows are written and queued, not sent
    results += digest_check(size["digest_subscribers"])
    from wechathhu.celery import app

    app.control.purge()
    return results
