"""Benchmark: build data in MariaDB, serve as deployed (gunicorn + Celery + Redis), load with wrk.

.venv/bin/python -m bench [--scale 1.0] [--duration 10] [--connections 16] [--workers 4] [--only NAME]
"""

import argparse
import json
import os
import random
import secrets
import sys
import time
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .official import OFFICIAL

RESULTS = Path(__file__).resolve().parent / "results"
FULL_SCALE = {
    "users": 50_000,
    "message_recipients": 5_000_000,
    "rooms": 500,
    "bookings": 200_000,
    "activities": 1_000,
    "conversation_messages": 200_000,
}


def bench_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "DJANGO_SETTINGS_MODULE": "wechathhu.settings",
            "CACHE_KEY_PREFIX": "bench",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            # The clock-in burst makes the QR codes in this process: the server must use the same key.
            "ACTIVITIES_CLOCKIN_SECRET": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "QUERY_COUNT_HEADER": "true",
            "BENCH_CEILING": "true",
            "THROTTLE_LOGIN": "1000000/min",
            "THROTTLE_LOGIN_USER": "1000000/min",
            "THROTTLE_MAIL": "1000000/min",
            "REPAIRS_CREATE_RATE": "1000000/min",
            "LOG_LEVEL": "WARNING",
            # The official account's webhook, signed by this process (bench.official).
            **OFFICIAL,
        }
    )
    return env


def server_connection(url: str):
    """A connection to the MariaDB server of ``url`` (``mysql://user[:password]@host[:port]/name``),
    to no database in particular."""
    import MySQLdb

    parts = urlsplit(url)
    return MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
    )


def ensure_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    connection = server_connection(url)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    connection.close()


@contextmanager
def buffer_pool(url: str, megabytes: int | None):
    """MariaDB's InnoDB buffer pool at ``megabytes`` for the run (the deployment guide's advice is
    to size it for the data), and back to what it was afterwards; the server is the one of ``url``.
    ``None``: left as it is."""
    if not megabytes:
        yield
        return
    connection = server_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@innodb_buffer_pool_size")
            (before,) = cursor.fetchone()
        _resize_buffer_pool(connection, megabytes * 2**20)
        try:
            yield
        finally:
            _resize_buffer_pool(connection, int(before))
    finally:
        connection.close()


def _resize_buffer_pool(connection, size: int) -> None:
    """Resize and wait until the pool has its new pages (the server may resize in the background;
    its pages are a little under the set size, some of it being the pool's own bookkeeping)."""
    with connection.cursor() as cursor:
        cursor.execute("SET GLOBAL innodb_buffer_pool_size = %s", [size])
        deadline = time.monotonic() + 120
        while True:
            cursor.execute(
                "SELECT variable_value * @@innodb_page_size FROM information_schema.global_status "
                "WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_TOTAL'"
            )
            (pages_bytes,) = cursor.fetchone()
            if abs(int(pages_bytes) - size) < size * 0.05:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the buffer pool did not resize to {size} bytes ({pages_bytes})")
            time.sleep(0.2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the DESIGN.md scale (default 1.0)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections under load")
    parser.add_argument(
        "--alone-duration", type=int, default=3, help="seconds of the one-connection pass per endpoint"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", action="append", help="run only scenarios whose name contains this")
    parser.add_argument("--build-only", action="store_true", help="build the data set, then stop")
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/wechathhu_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--report", type=Path, help="print the tables of a saved results file and stop")
    parser.add_argument(
        "--delivery-full-sizes",
        action="store_true",
        help="the delivery family at the full scale's sizes (a fan-out to 10 000, 5 000 digest "
        "subscribers) whatever --scale, as far as the users built allow",
    )
    parser.add_argument(
        "--buffer-pool-mb",
        type=int,
        help="set MariaDB's innodb_buffer_pool_size (MB) for this run, restored afterwards",
    )
    args = parser.parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text())
        print(render_table(saved["results"]))
        if saved.get("checks"):
            print()
            print(render_checks(saved["checks"]))
        return 0

    started = datetime.now(UTC).astimezone()
    env = bench_env(args)
    os.environ.update(env)
    ensure_database(args.database_url)

    with buffer_pool(args.database_url, args.buffer_pool_mb):
        return run(args, env, started)


def run(args, env: dict, started: datetime) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from . import checks, data, pages, server, wrk
    from .scenarios import SCENARIOS, Context

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # served by whitenoise, as deployed
    scale = {key: max(1, int(value * args.scale)) for key, value in FULL_SCALE.items()}
    rng = random.Random(42)
    # The delivery family (bench/delivery.py) runs only when asked for; alone, it needs only users.
    delivery_family = bool(args.only) and any(part in "delivery" for part in args.only)
    only_delivery = delivery_family and all(part in "delivery" for part in args.only)
    for builder in [data.build_users] if only_delivery else data.BUILDERS:
        builder(scale, rng)
    if args.build_only:
        return 0
    tokens = data.tokens(min(2000, scale["users"]))
    from accounts.models import User

    usernames = list(
        User.objects.filter(pk__in=[pk for pk, _ in tokens[:200]]).values_list("username", flat=True)
    )
    context = Context(tokens=tokens, usernames=usernames)
    rows_in_db, machine = data.counts(), data.machine()
    from django.db import connections

    connections.close_all()

    rows, extra = [], []
    # WeChat itself is a local fake: whatever the server and its worker send goes there.
    from official.tests.fake_wechat import FakeWeChat

    fake_wechat = FakeWeChat().start()
    env = {**env, "WECHAT_API_BASE_URL": fake_wechat.url}
    with (
        server.running(env, port=args.port, workers=args.workers)
        if not only_delivery
        else nullcontext() as base_url
    ):
        for scenario in SCENARIOS if not only_delivery else ():
            if args.only and not any(part in scenario.name for part in args.only):
                continue
            if scenario.runner is not None:
                figures = scenario.runner(base_url, context)
                queries = figures.pop("queries", None)
            else:
                requests = scenario.build(context)
                server.warm_tokens(base_url, tokens)
                # The usual count over five requests (a worker's first request also opens its
                # database connection, whose set-up queries the header counts too).
                samples = [server.query_count(base_url, *request) for request in requests[:5]]
                queries = max(set(samples), key=lambda n: (samples.count(n), n or 0))
                server.wait_idle(base_url)
                figures = wrk.run(base_url, requests, duration=args.duration, connections=args.connections)
                # The same requests one at a time (from the other end of the list, so writes do
                # not repeat): the latency of a request alone, without waiting behind others.
                # Requests wrk left queued in the workers are drained first.
                server.wait_idle(base_url)
                alone = wrk.run(base_url, requests[::-1], duration=args.alone_duration, connections=1)
                figures["p50_alone_ms"] = alone["p50_ms"]
                figures["requests_alone"] = alone["requests"]
            rows.append(
                {
                    "endpoint": scenario.name,
                    "queries": queries,
                    "target_p50_ms": scenario.target_p50_ms,
                    "target_p99_ms": scenario.target_p99_ms,
                    "baseline": scenario.baseline,
                    "ceiling": scenario.ceiling,
                    "target_ratio": scenario.target_ratio,
                    **figures,
                }
            )
            print(f"  done: {scenario.name}", file=sys.stderr)
            time.sleep(1)
        if not only_delivery and (not args.only or "checks" in args.only):
            for check in (
                checks.global_send,
                checks.targeted_send,
                lambda: checks.same_slot(base_url, tokens),
                checks.clockin_filter,
                checks.message_search,
                checks.hot_list,
                lambda: pages.page_weight(base_url, pages.session_cookies([tokens[0][0]])[0]),
            ):
                extra.append(check())
                print(f"  done: {extra[-1]['check']}", file=sys.stderr)

    fake_wechat.stop()
    if delivery_family:
        extra += run_delivery_family(args, env)
    # A scenario may carry its own check (the clock-in burst's integrity): listed with the others.
    extra = [row["check"] for row in rows if isinstance(row.get("check"), dict)] + extra
    add_ratios(rows)
    report = {
        "when": started.isoformat(timespec="seconds"),
        "scale": scale,
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "gunicorn_workers": args.workers,
            "alone_duration_s": args.alone_duration,
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            **machine,
        },
        "data": rows_in_db,
        "results": rows,
        "checks": extra,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(render_table(rows))
    if extra:
        print()
        print(render_checks(extra))
    print(f"\nwritten to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


def run_delivery_family(args, env: dict) -> list[dict]:
    """The delivery family on a stack of its own: both WeChat channels on, against a fake WeChat
    in this process that counts every push (bench/delivery.py)."""
    from official.tests.fake_wechat import FakeWeChat

    from . import delivery, server

    fake = FakeWeChat().start()
    env = {**env, **delivery.DELIVERY_ENV, "WECHAT_API_BASE_URL": fake.url}
    try:
        with server.stack(env, port=args.port, workers=args.workers) as (base_url, worker):
            results = delivery.run_family(
                base_url, worker, fake, 1.0 if args.delivery_full_sizes else args.scale
            )
    finally:
        fake.stop()
    for row in results:
        print(f"  done: {row['check']}", file=sys.stderr)
    return results


def add_ratios(rows: list[dict]) -> None:
    """Each row's throughput as a fraction of ping's (``ratio_to_baseline``) and of the bare
    Django view's (``ratio_to_ceiling``), when those ran."""
    baseline = next((r["rps"] for r in rows if r["baseline"]), None)
    ceiling = next((r["rps"] for r in rows if r.get("ceiling")), None)
    for row in rows:
        row["ratio_to_baseline"] = round(row["rps"] / baseline, 3) if baseline else None
        row["ratio_to_ceiling"] = round(row["rps"] / ceiling, 3) if ceiling else None


def _ratio_target(row: dict) -> str:
    """``≥ 0.8× ping ✓``: ping's target is against the ceiling, every other one against ping."""
    goal = row.get("target_ratio")
    if not goal:
        return ""
    against, ratio = (
        ("ceiling", row.get("ratio_to_ceiling")) if row["baseline"] else ("ping", row["ratio_to_baseline"])
    )
    if ratio is None:
        return f"≥ {goal:g}× {against}"
    return f"≥ {goal:g}× {against} {'✓' if ratio >= goal else '✗'}"


def _statuses(mix: dict) -> str:
    return " ".join(f"{status}×{n}" for status, n in mix.items())


def render_table(rows: list[dict]) -> str:
    header = (
        "| endpoint | req/s | × ceiling | × baseline | p50 ms | p95 ms | p99 ms | p50 alone ms | errors "
        "| statuses | queries | target p50 (alone / loaded) | target req/s |"
    )
    lines = [header, "|" + "---|" * 13]
    for r in rows:
        target = ""
        alone = r.get("p50_alone_ms")
        if r["target_p50_ms"]:
            goal = r["target_p50_ms"]
            marks = [m for m in (alone, r["p50_ms"]) if m is not None]
            target = f"< {goal:g} ms " + " / ".join("✓" if m < goal else "✗" for m in marks)
        if r.get("target_p99_ms"):
            goal = r["target_p99_ms"]
            target += f"{'; ' if target else ''}p99 < {goal:g} ms {'✓' if r['p99_ms'] < goal else '✗'}"
        ratio = r["ratio_to_baseline"] if r["ratio_to_baseline"] is not None else ""
        to_ceiling = r.get("ratio_to_ceiling")
        lines.append(
            f"| {r['endpoint']} | {r['rps']:.0f} | {'' if to_ceiling is None else to_ceiling} | {ratio} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {'' if alone is None else f'{alone:.1f}'} "
            f"| {r['errors']} | {_statuses(r.get('statuses', {}))} "
            f"| {r['queries'] if r['queries'] is not None else ''} | {target} | {_ratio_target(r)} |"
        )
    return "\n".join(lines)


def render_checks(rows: list[dict]) -> str:
    lines = ["| check | target | measured | result |", "|---|---|---|---|"]
    for r in rows:
        measured = {k: v for k, v in r.items() if k not in ("check", "target", "passed")}
        shown = ", ".join(f"{k} {v}" for k, v in measured.items())
        lines.append(f"| {r['check']} | {r['target']} | {shown} | {'✓' if r['passed'] else '✗'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
