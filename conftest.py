"""Fixtures shared by every app's tests.

Only the outside world is faked (WeChat at the HTTP layer, e-mail through Django's locmem
backend); the database and Redis are the real ones the settings point at.
"""

import contextlib
import email
import ipaddress
import itertools
import os
import socket
import threading
import uuid

import pytest
import responses
from django.conf import settings as django_settings
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from official.tests.wechat_side import OFFICIAL_APP_ID, OFFICIAL_TOKEN
from wechathhu.celery import app as celery_app

PASSWORD = "pass-word-123"
_throttle_prefixes = (f"{uuid.uuid4().hex[:8]}-{n}" for n in itertools.count())


# --- One worker's own share of the shared services (pytest-xdist: ``make test`` runs ``-n auto``) ---


def worker_id() -> str:
    """The xdist worker running this process ("gw0", "gw1", …), or "" when the run is not split."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def pytest_configure(config):
    """Each xdist worker keeps its cache keys under a prefix of its own (``<CACHE_KEY_PREFIX>-gwN``),
    so one worker's clearing, throttles, token cache and worker heartbeat never touch another's.
    The environment carries the prefix to the processes a test starts (a second process revoking a
    token, a real Celery worker). The databases are per worker already (pytest-django suffixes
    ``test_<name>`` with the worker id)."""
    worker = worker_id()
    if not worker:
        return
    from django.conf import settings
    from django.test.signals import clear_cache_handlers

    prefix = f"{settings.CACHE_KEY_PREFIX}-{worker}"
    os.environ["CACHE_KEY_PREFIX"] = settings.CACHE_KEY_PREFIX = prefix
    for options in settings.CACHES.values():
        options["KEY_PREFIX"] = prefix
    clear_cache_handlers(setting="CACHES")  # caches made before this point forget their prefix


@pytest.fixture(autouse=True)
def _test_defaults(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    # Messages are pushed by e-mail only in the tests that look at it (the delivery rules' own);
    # elsewhere a status change's notice would add a mail to the outbox other tests count.
    settings.MESSAGING_PUSH_CHANNELS = ["wechat", "wechat_oa"]
    # The token cache is on by default with Redis; the query counts the tests assert include the
    # token's read on every engine. accounts/tests/test_token_cache.py turns it on itself.
    settings.TOKEN_CACHE_SECONDS = 0
    # The conversations' events long-poll answers at once (a fuzzed request must not wait 25 s);
    # conversations/tests/test_push_and_events.py turns it on itself.
    settings.CONVERSATIONS_LONGPOLL_SECONDS = 0
    # Tasks run in-process in tests, whatever broker the settings name; tests that need
    # the broker's behaviour switch this off themselves.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    # The throttles count in a cache of their own (a database table without Redis, which a
    # transactional test's flush does not empty): each test counts under its own prefix.
    throttle = {**django_settings.CACHES["throttle"], "KEY_PREFIX": f"test-{next(_throttle_prefixes)}"}
    settings.CACHES = {**django_settings.CACHES, "throttle": throttle}
    _clear_cache()
    yield
    _clear_cache()


def _clear_cache():
    """Empty the test's cache: on Redis only this run's keys (its prefix), never ``FLUSHDB``, which
    would also empty the other xdist workers' keys (and anything else in that Redis database)."""
    from django.core.cache.backends.redis import RedisCache

    from wechathhu.api.exceptions import is_cache_outage

    try:
        target = caches["default"]
        if isinstance(target, RedisCache):
            client = target._cache.get_client(None, write=True)
            pattern = _redis_glob(target.key_prefix) + ":*"
            keys = list(client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(keys), 1000):
                client.unlink(*keys[start : start + 1000])
        else:
            target.clear()
    except Exception as exc:  # a test that simulates a Redis outage
        if not is_cache_outage(exc):
            raise


def _redis_glob(text: str) -> str:
    """``text`` matched literally in a Redis ``SCAN MATCH`` pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


# --- No network outside this machine ----------------------------------------------------------------

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_loopback(host) -> bool:
    if not isinstance(host, str):
        return False
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetworkAccessBlocked(RuntimeError):
    """A test tried to reach a host other than this machine."""


_blocked_lock = threading.Lock()
_blocked: list[str] = []


def _check_address(sock_family, address) -> None:
    if sock_family == getattr(socket, "AF_UNIX", object()) or isinstance(address, str | bytes):
        return  # a unix socket
    host = address[0] if isinstance(address, tuple) and address else address
    if _is_loopback(host):
        return
    what = f"{host}:{address[1]}" if isinstance(address, tuple) and len(address) > 1 else repr(address)
    with _blocked_lock:
        _blocked.append(what)
    raise NetworkAccessBlocked(
        f"tests may only connect to this machine (127.0.0.1, ::1, localhost, unix sockets): {what}. "
        "Fake the outside world (responses, official/tests/fake_wechat.py, the SMTP fixtures)."
    )


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_create_connection = socket.create_connection


def _guarded_connect(self, address):
    _check_address(self.family, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(self.family, address)
    return _real_connect_ex(self, address)


def _guarded_create_connection(address, *args, **kwargs):
    _check_address(socket.AF_INET, address)  # before the name is looked up (no DNS query either)
    return _real_create_connection(address, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_network_outside_loopback(monkeypatch):
    """Fail any test that opens a connection to a host other than this machine, even where the code
    under test catches the error (the attempt is recorded and the test fails at its end)."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", _guarded_create_connection)
    with _blocked_lock:
        _blocked.clear()
    yield
    with _blocked_lock:
        attempts, _blocked[:] = list(_blocked), []
    if attempts:
        pytest.fail(f"the test tried to connect outside this machine: {', '.join(attempts)}")


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, kind="staff")


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True, kind="staff")


@pytest.fixture
def anon_client():
    return APIClient()


def client_for(user, keyword="Token", device="pytest") -> APIClient:
    """An API client that logs ``user`` in with a real per-device token."""
    from accounts.services.tokens import token_issue

    token, _ = token_issue(user=user, device=device)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token.key}")
    client.token = token
    return client


@pytest.fixture
def make_client(db):
    return client_for


@pytest.fixture
def api_client(user):
    return client_for(user)


@pytest.fixture
def staff_client(staff_user):
    return client_for(staff_user)


# --- The outside world: WeChat at the HTTP layer, a real local SMTP server ------------------------

WECHAT_BASE = "http://wechat.test/"


@pytest.fixture
def wechat_api(settings):
    """WeChat enabled and faked at the HTTP layer: the real wechatpy code runs against ``responses``.

    The access-token endpoint answers; register the other endpoints a test needs on the yielded
    ``responses.RequestsMock`` (paths relative to ``WECHAT_BASE``).
    """
    settings.WECHAT_ENABLED = True
    settings.WECHAT_APP_ID = "wx-test-app"
    settings.WECHAT_APP_SECRET = "test-app-secret"
    settings.WECHAT_API_BASE_URL = WECHAT_BASE
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(WECHAT_BASE + "cgi-bin/token", json={"access_token": "ACCESS", "expires_in": 7200})
        yield mock


@pytest.fixture
def fake_wechat():
    """A fake WeChat official-account API: a real HTTP server on 127.0.0.1 with state
    (``official.tests.fake_wechat.FakeWeChat``)."""
    from official.tests.fake_wechat import FakeWeChat

    server = FakeWeChat().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def official_account(settings, fake_wechat):
    """The official account configured (plain mode) with its API at the fake server; yields the
    fake. Switch to safe mode with ``settings.WECHAT_OFFICIAL_ENCODING_AES_KEY = OFFICIAL_AES_KEY``."""
    settings.WECHAT_OFFICIAL_ENABLED = True
    settings.WECHAT_OFFICIAL_APP_ID = OFFICIAL_APP_ID
    settings.WECHAT_OFFICIAL_APP_SECRET = "official-secret"
    settings.WECHAT_OFFICIAL_TOKEN = OFFICIAL_TOKEN
    settings.WECHAT_OFFICIAL_ENCODING_AES_KEY = ""
    settings.WECHAT_API_BASE_URL = fake_wechat.url
    return fake_wechat


class _Inbox:
    """What a real SMTP server received, parsed."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        return [email.message_from_bytes(e.original_content or e.content) for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_smtp(settings, inbox):
    """Run a real SMTP server (aiosmtpd) for ``inbox`` on a free loopback port, with Django's SMTP
    backend pointed at it, until the fixture that yields from this ends."""
    from aiosmtpd.controller import Controller

    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1, with Django's SMTP backend pointed at it."""
    yield from _serve_smtp(settings, _Inbox())


class _FlakyInbox(_Inbox):
    """Answers the first ``failures`` messages with a temporary error (451), then accepts."""

    def __init__(self, failures):
        super().__init__()
        self.failures = failures
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refused < self.failures:
            self.refused += 1
            return "451 Temporary local problem, try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def flaky_smtp_server(settings):
    """A real SMTP server that refuses the first two messages with a temporary error."""
    yield from _serve_smtp(settings, _FlakyInbox(failures=2))


@pytest.fixture
def smtp_down(settings):
    """SMTP configured against a port nobody listens on (connection refused)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def hanging_smtp_port():
    """A loopback port where an SMTP server hangs: connections are taken (the kernel completes
    them) but no greeting ever comes."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        yield listener.getsockname()[1]


# --- The Celery client against a real broker address ----------------------------------------------


@contextlib.contextmanager
def celery_broker(url: str):
    """Tasks published for real (not run in-process) to the broker at ``url``; the configured
    broker and eager mode come back afterwards. Pools made for either broker are forgotten."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, url
    celery_app._pool = celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = saved
        celery_app._pool = celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The real Celery client, pointed at a port where no broker listens."""
    with celery_broker(f"redis://127.0.0.1:{_free_port()}/0"):
        yield


# --- A Redis server of a test's own, which the test may stop and start again ---------------------


class RedisServer:
    """``redis-server`` on a free loopback port, keeping nothing on disk (as the deployed one)."""

    def __init__(self, binary: str, workdir):
        self.binary, self.workdir = binary, workdir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        import subprocess
        import time

        import redis

        self.process = subprocess.Popen(  # noqa: S603 - the installed redis-server, loopback only
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    """A running ``RedisServer`` (stopped at the end); skipped where ``redis-server`` is missing."""
    import shutil

    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    if binary is None:
        pytest.skip("redis-server is not installed here (apt-get install redis-server)")
    server = RedisServer(binary, tmp_path)
    server.start()
    yield server
    server.stop()


# --- Engine-specific tests and the CI "nothing skips" rule ---------------------------------------


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    on_mysql = "mysql" in engine
    has_redis = bool(settings.REDIS_URL)
    for item in items:
        group = _xdist_group(item)
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
        if "mariadb" in item.keywords and not on_mysql:
            item.add_marker(pytest.mark.skip(reason="needs MariaDB/MySQL (run with DATABASE_URL=mysql://…)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs a Redis server (run with REDIS_URL=redis://…)"))


def _xdist_group(item) -> str | None:
    """Tests that share something costly run one after another on one worker (``--dist loadgroup``):
    the browser suite (one Chromium per package), the deployment smoke test (a fresh virtualenv and
    a whole stack) and the bench's builders (a data set built once per module, a server setting)."""
    if "browser" in item.keywords:
        return "browser"
    if "deploy" in item.keywords:
        return "deploy"
    if item.module is not None and item.module.__name__.endswith("test_bench_smoke"):
        return "bench"
    return None


_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    import os

    if os.environ.get("CI") == "true" and _skipped and exitstatus == 0:
        session.exitstatus = 1
        print(f"\nCI=true: {len(_skipped)} test(s) skipped, which CI does not allow: {_skipped[:5]}")
