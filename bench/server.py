"""Start the project exactly as deployed: gunicorn with several workers and a Celery worker."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def log_path(port: int) -> Path:
    """The server's and the worker's log (a line per 4xx, tracebacks of any 500), kept out of the
    table; one per port, so benches run side by side on other ports keep their own."""
    return Path(tempfile.gettempdir()) / f"wechathhu-bench-server-{port}.log"


@contextmanager
def running(env: dict, *, port: int, workers: int):
    path = log_path(port)
    log = path.open("w")
    print(f"  server log: {path}", file=sys.stderr)
    procs = [
        subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "wechathhu.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        ),
        subprocess.Popen(
            [str(BIN / "celery"), "-A", "wechathhu", "worker", "--loglevel=WARNING", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        ),
    ]
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/health/")
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer at {url}")


def credentials_header(credentials: str) -> dict:
    """A scenario's credentials as a header: ``Cookie: …`` (a page's session) or an Authorization value."""
    if credentials.startswith("Cookie: "):
        return {"Cookie": credentials.removeprefix("Cookie: ")}
    return {"Authorization": credentials} if credentials else {}


def query_count(base_url: str, method: str, path: str, authorization: str, body: str) -> int | None:
    """The X-Query-Count of one request (the server runs with QUERY_COUNT_HEADER=true)."""
    request = urllib.request.Request(  # noqa: S310 - loopback only
        base_url + path,
        method=method,
        data=body.encode() if body else None,
        headers={
            **credentials_header(authorization),
            **({"Content-Type": "application/json"} if body else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            value = response.headers.get("X-Query-Count")
    except urllib.error.HTTPError as error:
        value = error.headers.get("X-Query-Count")
    return int(value) if value is not None else None


def wait_idle(base_url: str, *, settle: float = 0.5) -> None:
    """Return once the workers have worked off what earlier connections left queued: a ping waits
    behind those requests, so two quick answers in a row mean the queue is empty."""
    deadline = time.monotonic() + 120
    quick = 0
    while quick < 2 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(base_url + "/health/", timeout=60) as response:  # noqa: S310
                response.read()
        except OSError:
            time.sleep(0.5)
            continue
        quick = quick + 1 if time.monotonic() - started < 0.05 else 0
    time.sleep(settle)
