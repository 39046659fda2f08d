"""The deployment's configuration: settings from the environment and .env (empty means default, a bad
value stops start-up naming it, one meaning for every tool), the operator's .env, the start-up
warnings, /health/, the stack's event log, gunicorn's settings, the systemd units and backups.

The whole deployment, run as an operator runs it, is test_deploy_smoke.py."""

import configparser
import contextlib
import io
import logging
import os
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient

from wechathhu import checks, health, logs, stack
from wechathhu.env import Env, parse_env_file
from wechathhu.tests.deployment import env_from_example, free_port

ROOT = Path(settings.BASE_DIR)
EXAMPLE = ROOT / ".env.example"


def manage(*args, env_file=None, timeout=120, **variables):
    """``manage.py`` in a clean environment (nothing of the test run's own settings)."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **variables}  # noqa: S108
    env["ENV_FILE"] = str(env_file) if env_file else "/dev/null"
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def env_of(**values) -> Env:
    env = Env()
    env.ENVIRON = values
    return env


# --- Reading values -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   "])
def test_an_empty_value_means_the_default(raw):
    env = env_of(X=raw)
    assert env.int("X", default=15) == 15
    assert env.bool("X", default=True) is True
    assert env("X", default="wechathhu") == "wechathhu"
    assert env.list("X", default=["a"]) == ["a"]
    assert env.rate("X", default="10/min") == "10/min"


@pytest.mark.parametrize(
    ("method", "raw", "message"),
    [
        ("bool", "maybe", "Invalid setting X='maybe': not a boolean"),
        ("int", "15s", "Invalid setting X='15s': not a whole number"),
        ("float", "fast", "Invalid setting X='fast': not a number"),
        ("float", "inf", "not a finite number"),
        ("rate", "10/week", "not a rate such as 10/min"),
    ],
)
def test_a_value_that_cannot_be_parsed_names_the_variable(method, raw, message):
    env = env_of(X=raw)
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        getattr(env, method)("X", default={"bool": True, "int": 1, "float": 1.0, "rate": "1/s"}[method])


def test_booleans_are_strict_and_lists_trimmed():
    assert [env_of(X=v).bool("X", default=None) for v in ("True", "yes", "1", "off", "0", "FALSE")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert env_of(X=" a, b ,,c ").list("X", default=[]) == ["a", "b", "c"]


def test_urls_are_checked_and_their_passwords_never_echoed():
    with pytest.raises(ImproperlyConfigured) as bad_db:
        env_of(DATABASE_URL="postgress://u:s3cret@h/db").db("DATABASE_URL")
    assert "DATABASE_URL (value hidden)" in str(bad_db.value) and "s3cret" not in str(bad_db.value)
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        env_of(DATABASE_URL="mysql://u:p@h:3306/").db("DATABASE_URL")
    with pytest.raises(ImproperlyConfigured, match="not an e-mail URL"):
        env_of(EMAIL_URL="smtp.example.edu.cn:25").email_url("EMAIL_URL")
    assert (
        env_of(DATABASE_URL="mysql://u:p%40x@db.example:3306/portal").db("DATABASE_URL")["PASSWORD"] == "p@x"
    )


def test_values_are_literal():
    """django-environ would look up ``$abc`` as another variable; a secret may start with '$'."""
    assert env_of(SECRET_KEY="$abc-def").str("SECRET_KEY", default="") == "$abc-def"


# --- The .env file -------------------------------------------------------------------------------


def test_env_file_lines():
    values = parse_env_file(
        "# a comment\n\nA=1\nB='two words $x'\nC=\"<noreply@example.edu.cn>\"\nD=\nE=a=b,c=d\n"
    )
    assert values == {"A": "1", "B": "two words $x", "C": "<noreply@example.edu.cn>", "D": "", "E": "a=b,c=d"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A=1\nDEFAULT_FROM_EMAIL=HHU <noreply@x>\n", "line 2: quote DEFAULT_FROM_EMAIL's value"),
        ("A = 1\n", "line 1: not a KEY=value line"),
        ("export A=1\n", "remove 'export '"),
        ('A="x $HOME"\n', "double-quoted value"),
        ("A='it's'\n", "single-quoted value"),
        ("A=1\nB=2\nA=3\n", "line 3: A is already set on line 1"),
        ("A=x # note\n", "quote A's value"),
    ],
)
def test_a_line_the_tools_would_read_differently_is_refused(text, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_env_file(text, source=".env")


def test_the_example_has_no_empty_assignments_and_bash_reads_it_as_the_portal_does():
    text = EXAMPLE.read_text()
    ours = parse_env_file(text)
    assert not [key for key, value in ours.items() if value == ""]
    bash = shutil.which("bash")
    script = 'set -a; . "$1"; shift; for k in "$@"; do printf "%s\\0%s\\0" "$k" "${!k}"; done'
    out = subprocess.run(  # noqa: S603 - bash reading the committed example
        [bash, "--norc", "-c", script, "bash", str(EXAMPLE), *ours],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )
    fields = out.stdout.decode().split("\0")[:-1]
    assert dict(zip(fields[::2], fields[1::2], strict=True)) == ours
    assert not out.stderr


@contextlib.contextmanager
def environment(variables: dict[str, str]):
    """The process's environment replaced by ``variables`` for a moment (settings read os.environ)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def settings_from(env_file=None, **variables) -> dict:
    """wechathhu/settings.py evaluated afresh for these variables and .env file, in this process."""
    defaults = {
        "ENV_FILE": str(env_file) if env_file else "/dev/null",
        "VAR_DIR": variables.pop("VAR_DIR", ""),
    }
    with environment({**defaults, **variables}):
        return runpy.run_path(str(ROOT / "wechathhu" / "settings.py"))


SHOWN = [
    "DEBUG",
    "VAR_DIR",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "WECHAT_ENABLED",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "EMAIL_BACKEND",
    "CACHES",
    "DATABASES",
]


def shown(env_file=None, **variables) -> dict:
    values = settings_from(env_file, **variables)
    return {key: values[key] for key in SHOWN}


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "portal.example.edu.cn"}


def test_copying_the_example_to_env_keeps_every_default(tmp_path):
    copy = tmp_path / ".env"
    shutil.copyfile(EXAMPLE, copy)
    for variables in ({}, PRODUCTION):
        assert shown(copy, **variables) == shown(None, **variables)
    production = shown(copy, **PRODUCTION)
    assert production["SECURE_SSL_REDIRECT"] is production["SESSION_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] == 31536000 and production["WECHAT_ENABLED"] is False
    assert (
        production["MEDIA_ROOT"] == ROOT / "var" / "media" and production["CELERY_BROKER_URL"] == "memory://"
    )
    assert settings_from(copy)["DEFAULT_FROM_EMAIL"] == "HHU计信院教师微服务 <noreply@example.edu.cn>"


def operators_env(tmp_path) -> Path:
    """The .env an operator makes from .env.example (README, Full deployment, step 3)."""
    path = tmp_path / ".env"
    path.write_text(
        env_from_example(
            {
                "DEBUG": "false",
                "SECRET_KEY": "k" * 20 + "0123456789abcdefghijABCDEFGHIJ-_",
                "ALLOWED_HOSTS": "portal.example.edu.cn",
                "SITE_URL": "https://portal.example.edu.cn",
                "CSRF_TRUSTED_ORIGINS": "https://portal.example.edu.cn",
                "BEHIND_TLS_PROXY": "true",
                "NUM_PROXIES": "1",
                "DATABASE_URL": "mysql://wechathhu:pass-word@localhost/wechathhu",
                "REDIS_URL": "redis://127.0.0.1:6379/0",
                "EMAIL_URL": "smtp+tls://noreply%40example.edu.cn:password@smtp.example.edu.cn:587",
                "VAR_DIR": str(tmp_path / "var"),
            }
        )
    )
    return path


def test_the_operators_env_passes_check_deploy(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_file=operators_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout and "WARNING" not in result.stderr


def test_the_operators_env_configures_the_full_deployment(tmp_path):
    values = settings_from(operators_env(tmp_path))
    assert (
        values["DATABASES"]["default"]["ENGINE"] == "wechathhu.db.mysql"
    )  # Django's, health check every 1 s
    assert values["DATABASES"]["default"]["HOST"] == "localhost"  # MariaDB's local socket
    assert (
        values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
        and values["CELERY_TASK_ALWAYS_EAGER"] is False
    )
    assert values["EMAIL_HOST_USER"] == "noreply@example.edu.cn" and values["EMAIL_USE_TLS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_an_unparsable_value_stops_start_up_naming_it(tmp_path):
    with pytest.raises(
        ImproperlyConfigured, match=r"Invalid setting EMAIL_TIMEOUT='15s': not a whole number\."
    ):
        settings_from(EMAIL_TIMEOUT="15s", VAR_DIR=str(tmp_path))
    with pytest.raises(ImproperlyConfigured, match="Invalid setting DEBUG='maybe'"):
        settings_from(DEBUG="maybe", VAR_DIR=str(tmp_path))
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nDEFAULT_FROM_EMAIL=HHU <noreply@example.edu.cn>\n")
    with pytest.raises(ImproperlyConfigured, match="line 2: quote DEFAULT_FROM_EMAIL's value"):
        settings_from(env_file, VAR_DIR=str(tmp_path))
    result = manage("check", VAR_DIR=str(tmp_path), THROTTLE_LOGIN="10/fortnight")
    assert result.returncode != 0
    assert "Invalid setting THROTTLE_LOGIN='10/fortnight'" in result.stderr.splitlines()[-1]


def test_production_warns_when_mails_would_link_to_the_development_server(tmp_path):
    production = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production)
    assert result.returncode != 0
    # At start-up, in every process (logged), and by the deployment check.
    assert "WARNING wechathhu[" in result.stderr and "SITE_URL is http://127.0.0.1:8000" in result.stderr
    assert "wechathhu.W001" in result.stderr + result.stdout
    with override_settings(
        DEBUG=False, SITE_URL="https://other.example.edu.cn", ALLOWED_HOSTS=["portal.example.edu.cn"]
    ):
        assert [w.id for w in checks.check_site_url(None)] == ["wechathhu.W001"]
        assert "not in ALLOWED_HOSTS" in checks.site_url_problem()
    with override_settings(
        DEBUG=False, SITE_URL="https://portal.example.edu.cn", ALLOWED_HOSTS=["portal.example.edu.cn"]
    ):
        assert checks.check_site_url(None) == []


# --- One time base in the logs --------------------------------------------------------------------


def test_log_lines_carry_beijing_time_with_its_offset():
    assert logs.TIME_ZONE == settings.TIME_ZONE
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Listening", (), None)
    record.created = 1767225600.25  # 2026-01-01 00:00:00.250 UTC
    line = logs.Formatter().format(record)
    assert line.startswith("2026-01-01 08:00:00.250+08:00 INFO gunicorn.error[")


# --- /health/ -----------------------------------------------------------------------------------------


def test_health_in_the_embedded_default(db, settings):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", True
    response = APIClient().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "off", "worker": "off"}
    assert APIClient().get("/health/?scope=everything").status_code == 400


@pytest.mark.redis
def test_health_reports_the_worker_by_its_heartbeat(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = APIClient()
    down = client.get("/health/")
    assert down.status_code == 503 and down.json()["worker"] == "down" and down.json()["redis"] == "ok"
    assert client.get("/health/?scope=web").status_code == 200  # load balancers keep the web servers
    health.worker_heartbeat("worker@test")
    assert client.get("/health/").json() == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}


def test_health_says_redis_is_down(db, settings):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = dead
    settings.CELERY_TASK_ALWAYS_EAGER = False
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
    with override_settings(CACHES=caches):  # Django's test signals give the cache a new connection
        response = APIClient().get("/health/?scope=web")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "redis": "down", "worker": "off"}


# --- The one-machine stack ----------------------------------------------------------------------------


def test_the_stack_logs_exits_and_restarts_in_the_project_format():
    said = [
        stack.describe("PROCESS_STATE_EXITED", {"processname": "worker", "expected": "0", "pid": "7"}),
        stack.describe("PROCESS_STATE_FATAL", {"processname": "web"}),
        stack.describe("PROCESS_STATE_RUNNING", {"processname": "events", "pid": "1"}),
    ]
    assert said[0] == (logging.WARNING, "worker exited unexpectedly (pid 7); supervisord restarts it")
    assert said[1][0] == logging.ERROR and "manage.py stack restart web" in said[1][1]
    assert said[2] is None


def test_the_event_listener_speaks_supervisords_protocol(capsys):
    payload = "processname:beat groupname:beat from_state:RUNNING expected:0 pid:42"
    stdin = io.StringIO(
        f"ver:3.0 server:supervisor serial:1 pool:events poolserial:1 eventname:PROCESS_STATE_EXITED len:{len(payload)}\n{payload}"
    )
    stdout = io.StringIO()
    stack.events_main(stdin=stdin, stdout=stdout)
    assert stdout.getvalue() == "READY\nRESULT 2\nOKREADY\n"
    assert "WARNING wechathhu.stack" in capsys.readouterr().err


def test_gunicorn_reads_the_same_settings_with_a_control_socket_of_its_own(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"BIND=127.0.0.1:8299\nWEB_CONCURRENCY=3\nVAR_DIR={tmp_path}/var\n")
    script = "import runpy; c = runpy.run_path('gunicorn.conf.py'); print(c['bind'], c['workers'], c['control_socket'])"
    result = subprocess.run(  # noqa: S603 - our own config file
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["['127.0.0.1:8299']", "3", f"{tmp_path}/var/run/gunicorn.ctl"]


def test_the_systemd_units_run_the_documented_commands_and_are_valid(tmp_path):
    units = {p.name: p for p in (ROOT / "deploy" / "systemd").iterdir()}
    assert set(units) == {
        "wechathhu-web.service",
        "wechathhu-worker.service",
        "wechathhu-beat.service",
        "wechathhu.target",
    }
    commands = {}
    for name, path in units.items():
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        unit.read(path)
        if name.endswith(".service"):
            service = unit["Service"]
            assert service["WorkingDirectory"] == "/srv/wechathhu" and service["User"] == "wechathhu"
            assert service["Restart"] == "on-failure" and unit["Install"]["WantedBy"] == "wechathhu.target"
            commands[name] = service["ExecStart"].replace("/srv/wechathhu/.venv/bin/", "")
    assert commands == {
        "wechathhu-web.service": "gunicorn",
        "wechathhu-worker.service": "celery -A wechathhu worker --hostname=worker@%H",
        "wechathhu-beat.service": "celery -A wechathhu beat",
    }
    analyze = shutil.which("systemd-analyze")
    if analyze:  # systemd's own reading of them, where systemd is installed
        venv = Path(sys.executable).parent.parent
        for name, path in units.items():
            text = (
                path.read_text()
                .replace("/srv/wechathhu/.venv", str(venv))
                .replace("/srv/wechathhu", str(ROOT))
            )
            (tmp_path / name).write_text(text)
        result = subprocess.run(  # noqa: S603
            [analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr


# --- Backups (SQLite here; MariaDB in the smoke test) ------------------------------------------------


BACK_UP = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from accounts.models import User

call_command("migrate", verbosity=0)
User.objects.create_user(username="T7001", password="pass-7001-word")
default_storage.save("guides/手册.pdf", ContentFile(b"%PDF-1.4 manual"))
call_command("backup", output=OUTPUT)
"""

RESTORE = """
from django.core.management import call_command
from django.core.management.base import CommandError
from accounts.models import User

call_command("restore", ARCHIVE)
print("password", User.objects.get(username="T7001").check_password("pass-7001-word"))
try:
    call_command("restore", ARCHIVE)
except CommandError as error:
    print("again:", error)
"""


def test_backup_and_restore_of_the_embedded_default(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    backed = manage(
        "shell", "-c", BACK_UP.replace("OUTPUT", repr(str(tmp_path))), VAR_DIR=str(source), timeout=300
    )
    assert backed.returncode == 0, backed.stderr
    archive = next(tmp_path.glob("wechathhu-*.tar.gz"))
    restored = manage("shell", "-c", RESTORE.replace("ARCHIVE", repr(str(archive))), VAR_DIR=str(target))
    assert restored.returncode == 0, restored.stderr
    assert "password True" in restored.stdout
    assert "again: The database" in restored.stdout and "is not empty" in restored.stdout
    assert (target / "media" / "guides" / "手册.pdf").read_bytes() == b"%PDF-1.4 manual"


def test_every_throttle_rate_is_checked_before_the_first_request(settings):
    assert checks.check_rates(None) == []
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "10/fortnight"}}
    settings.SOMETHING_RATE = "ten per minute"
    assert [(e.id, e.msg.split(" =")[0]) for e in checks.check_rates(None)] == [
        ("wechathhu.E001", "DEFAULT_THROTTLE_RATES['login']"),
        ("wechathhu.E001", "SOMETHING_RATE"),
    ]


def test_stack_stop_returns_once_supervisord_has_exited_even_before_its_parent_collects_it(
    tmp_path, settings, monkeypatch
):
    """``manage.py stack start`` becomes supervisord; when whatever launched it waits for it only
    after ``stack stop`` returns (a script, a process manager), supervisord is a zombie meanwhile:
    stopped, yet ``kill(pid, 0)`` finds it. ``stop`` took it for running and failed after 180 s."""
    settings.VAR_DIR = tmp_path
    (tmp_path / "run").mkdir()
    exited = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603 - this interpreter
    deadline = time.monotonic() + 30
    while Path(f"/proc/{exited.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (tmp_path / "run" / "supervisord.pid").write_text(str(exited.pid))
    monkeypatch.setattr(stack, "supervisorctl", lambda *args: None)  # nothing to talk to
    try:
        started = time.monotonic()
        assert stack.stop(timeout=5) is True
        assert time.monotonic() - started < 2
    finally:
        exited.wait()
    # A process that runs is still waited for.
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # noqa: S603
    (tmp_path / "run" / "supervisord.pid").write_text(str(running.pid))
    try:
        with pytest.raises(TimeoutError):
            stack.stop(timeout=0.5)
    finally:
        running.kill()
        running.wait()
