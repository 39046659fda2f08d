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


class Worker:
    """The Celery worker as deployed (``celery -A wechathhu worker``), in its own process group, which
    the bench may kill outright (SIGKILL: no shutdown, no ack — a crash) and start again."""

    def __init__(self, env: dict, log, *, concurrency: int = 2):
        self.env, self.log, self.concurrency = env, log, concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "wechathhu",
                "worker",
                "--loglevel=WARNING",
                "--concurrency",
                str(self.concurrency),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a power cut would."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self, timeout: float = 20) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it takes longer than ``timeout``."""
        if not self.alive:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def stack(env: dict, *, port: int, workers: int):
    """gunicorn and a Celery worker as deployed; yields ``(base URL, Worker)``."""
    path = log_path(port)
    log = path.open("w")
    print(f"  server log: {path}", file=sys.stderr)
    web = subprocess.Popen(
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
    )
    worker = Worker(env, log).start()
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/health/")
        yield f"http://127.0.0.1:{port}", worker
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        worker.stop()
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
        log.close()


@contextmanager
def running(env: dict, *, port: int, workers: int):
    """gunicorn and a Celery worker as deployed; yields the base URL."""
    with stack(env, port=port, workers=workers) as (base_url, _worker):
        yield base_url


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


def warm_tokens(base_url: str, tokens: list[tuple[int, str]], *, concurrency: int = 8) -> None:
    """One ping per bench token before a scenario is measured, so that each meets the token cache
    as a running server has it for users active right now (a token seen and touched within the
    last minute: ``TOKEN_CACHE_SECONDS``, ``TOKEN_TOUCH_INTERVAL``) rather than cold entries: on a
    loaded machine a whole scenario could be cache misses (two queries each) while the next had
    none, which made the baseline (ping, the first) look slower than current user."""
    from concurrent.futures import ThreadPoolExecutor

    def ping(key: str) -> None:
        query_count(base_url, "GET", "/api/v1/ping", f"Bearer {key}", "")

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(ping, [key for _, key in tokens]))


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
