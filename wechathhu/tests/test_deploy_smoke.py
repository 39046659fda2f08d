"""The deployment smoke test: the README's full deployment, done as a new operator does it.

A copy of the project (what a clone has), a FRESH virtualenv made by ``make deploy`` from
``requirements.txt`` alone, a database and its non-root user created with the README's SQL, a ``.env``
written from ``.env.example`` with the production values filled in (DEBUG=false behind a TLS proxy),
MariaDB, a Redis server of the test's own, a real SMTP server and a fake WeChat. Then, through HTTP:
``/health/`` (database, Redis, worker), a scheduled message and a repair with a photo; the worker
publishes the message (pushed to WeChat and mailed: it is urgent) and mails the repair, once each, although the worker is
killed in between; ``make stop`` exits 0 with every process gone, ``make deploy`` starts again,
``make backup`` while it runs, ``make restore`` into a second, empty database, and the restored
site has the users, the message with its read state and the photo, byte for byte.

Runs in the MariaDB + Redis pass (``make test``; CI with CI=true, where a skip fails the run).
Databases: ``<test database>_smoke`` and ``_restore`` on the same server (the test database's name
carries the xdist worker's id, so parallel runs never share them) (SMOKE_DATABASES=a,b to
choose), dropped at the end. Each step has a timeout; every process is stopped even on failure.
The deployment's log is kept in test-artifacts/deploy-smoke.log.
"""

import contextlib
import csv
import email.header
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from conftest import RedisServer, _Inbox
from wechathhu.tests.deployment import (
    FakeWeChat,
    Site,
    alive,
    clean_environment,
    copy_project,
    descendants,
    env_from_example,
    free_port,
    kill_tree,
    readme_sql,
    wait_for,
)

pytestmark = [pytest.mark.mariadb, pytest.mark.redis, pytest.mark.deploy]

HOST = "portal.example.test"
# The deployment's whole log (every command and process), kept for reading after a run or in CI.
KEPT_LOG = Path(settings.BASE_DIR) / "test-artifacts" / "deploy-smoke.log"
ADMIN_PASSWORD = "Adm1n-" + secrets.token_urlsafe(12)
TEACHER_PASSWORD = "Teach-" + secrets.token_urlsafe(12)


# --- The servers around the deployment ----------------------------------------------------------


def _mysql_admin():
    import MySQLdb

    db = settings.DATABASES["default"]
    return MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 3306),
        user=db["USER"],
        passwd=db["PASSWORD"] or "",
        charset="utf8mb4",
        autocommit=True,
    )


class Databases:
    """Two databases and one user, created with the README's statements (names substituted)."""

    def __init__(self):
        base = settings.DATABASES["default"]["NAME"]
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        if worker and not base.endswith(worker):  # the worker's test database is not set up yet
            base = f"{base}_{worker}"
        names = os.environ.get("SMOKE_DATABASES", f"{base}_smoke,{base}_restore").split(",")
        self.names = [n.strip() for n in names][:2]
        self.user = ("smoke_" + self.names[0])[:32]
        self.password = secrets.token_urlsafe(16)
        server = settings.DATABASES["default"]["HOST"] or "127.0.0.1"
        self.local = server in ("127.0.0.1", "localhost", "")
        # The README's user connects through the local socket ('localhost'); a server elsewhere
        # needs the user for the address the deployment connects from.
        self.user_host, self.url_host = ("localhost", "localhost") if self.local else ("%", server)

    def url(self, name: str) -> str:
        return f"mysql://{self.user}:{self.password}@{self.url_host}/{name}"

    def create(self, name: str) -> None:
        statements = readme_sql()
        admin = _mysql_admin()
        try:
            cursor = admin.cursor()
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"DROP USER IF EXISTS '{self.user}'@'{self.user_host}'")
            for statement in statements:
                sql = (
                    statement.replace("'wechathhu'@'localhost'", f"'{self.user}'@'{self.user_host}'")
                    .replace("DATABASE wechathhu", f"DATABASE `{name}`")
                    .replace("wechathhu.*", f"`{name}`.*")
                    .replace("'change-me-to-a-long-random-password'", f"'{self.password}'")
                )
                cursor.execute(sql)
            # The README's grant is for one database; the restore target needs the same.
            for other in self.names:
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{other}`.* TO '{self.user}'@'{self.user_host}'")
            cursor.execute("SELECT CONVERT_TZ('2026-01-01 00:00:00', 'UTC', 'Asia/Shanghai')")
            assert cursor.fetchone()[0] is not None, "MariaDB's time-zone tables are empty (README step)"
        finally:
            admin.close()

    def drop(self) -> None:
        admin = _mysql_admin()
        try:
            cursor = admin.cursor()
            for name in self.names:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"DROP USER IF EXISTS '{self.user}'@'{self.user_host}'")
        finally:
            admin.close()


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def wechat():
    fake = FakeWeChat()
    yield fake
    fake.close()


@pytest.fixture
def redis_url(tmp_path):
    """A Redis of the test's own (nothing else flushes it); SMOKE_REDIS_URL names another."""
    if os.environ.get("SMOKE_REDIS_URL"):
        yield os.environ["SMOKE_REDIS_URL"]
        return
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    if binary is None:
        pytest.skip("redis-server is not installed here (apt-get install redis-server)")
    server = RedisServer(binary, tmp_path)
    server.start()
    yield server.url
    server.stop()


# --- The deployment --------------------------------------------------------------------------------


class Deployment:
    """A checkout of the project driven through the README's commands."""

    def __init__(self, root: Path, log: Path):
        self.root, self.log = root, log
        self.stack = None
        self.extra_processes = []

    def run(self, *command, env_file=None, timeout=900, check=True, **kwargs):
        env = clean_environment(**({"ENV_FILE": str(env_file)} if env_file else {}))
        with self.log.open("a") as log:
            log.write(f"\n$ {' '.join(command)}\n")
            log.flush()
            result = subprocess.run(  # noqa: S603 - the README's commands
                command,
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                **kwargs,
            )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {result.returncode}; log:\n{self.tail()}")
        return result

    def output(self, *command, timeout=120):
        return subprocess.run(  # noqa: S603
            command,
            cwd=self.root,
            env=clean_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self):
        """``make deploy``, in the background as a terminal (or tmux) runs it."""
        self.stack_log = self.log.open("a")
        self.stack = subprocess.Popen(  # noqa: S603
            ["make", "deploy"],  # noqa: S607
            cwd=self.root,
            env=clean_environment(),
            stdout=self.stack_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, timeout=240):
        """``make stop``; returns the exit status of ``make deploy``."""
        pids = descendants(self.stack.pid)
        self.run("make", "stop", timeout=timeout)
        status = self.stack.wait(timeout=60)
        self.stack_log.close()
        left = [pid for pid in pids if alive(pid)]
        assert not left, f"processes left after make stop: {left}"
        return status

    def program_pid(self, name: str) -> int:
        status = self.output(str(self.root / ".venv/bin/python"), "manage.py", "stack", "status")
        match = re.search(rf"^{name}\s+RUNNING\s+pid (\d+)", status.stdout, re.M)
        assert match, status.stdout + status.stderr
        return int(match.group(1))

    def kill_everything(self):
        for process in [self.stack, *self.extra_processes]:
            if process is not None and process.poll() is None:
                kill_tree(process.pid)
        pid_file = self.root / "var" / "run" / "supervisord.pid"
        if pid_file.exists():
            with contextlib.suppress(ValueError):
                kill_tree(int(pid_file.read_text().strip()))

    def tail(self, lines=80) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _people_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "工号/学号",
                "姓",
                "名",
                "身份",
                "电子邮箱",
                "系所",
                "班级",
                "职位",
                "手机",
                "办公电话",
                "初始密码",
            ]
        )
        writer.writerow(
            ["T1001", "张", "三", "教师", "t1001@example.test", "", "", "", "", "", TEACHER_PASSWORD]
        )


def _mails_to(inbox, address: str) -> list:
    return [m for m in inbox.messages if address in (m.get("To") or "")]


@pytest.fixture
def workdir():
    """A folder of the test's own: pytest's tmp_path can be renamed away by another pytest run of the
    same user while the deployment still runs from it. Removed after a pass; after a failure the
    deployment's log is kept in test-artifacts/deploy-smoke.log."""
    path = Path(tempfile.mkdtemp(prefix="wechathhu-deploy-smoke-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_readme_deployment_from_a_fresh_checkout(workdir, smtp, wechat, redis_url):
    tmp_path = workdir
    if shutil.which("make") is None or shutil.which("mysql") is None:
        pytest.skip("make and the MariaDB client are needed (apt-get install make mariadb-client)")
    inbox, smtp_port = smtp
    databases = Databases()
    root = tmp_path / "wechathhu"
    root.mkdir()
    copy_project(root)
    deployment = Deployment(root, tmp_path / "deploy.log")
    port, restored_port = free_port(), free_port()
    started = last = time.monotonic()
    phases = []

    def phase(name):
        nonlocal last
        now = time.monotonic()
        phases.append(f"{name} {now - last:.0f} s")
        last = now
        with deployment.log.open("a") as log:
            log.write(f"\n=== {name} done ({now - started:.0f} s)\n")

    try:
        # 1. The database and its user (README's SQL), the .env from .env.example.
        databases.create(databases.names[0])
        values = {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "SITE_URL": f"https://{HOST}",
            "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
            "BEHIND_TLS_PROXY": "true",
            "DATABASE_URL": databases.url(databases.names[0]),
            "REDIS_URL": redis_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "CELERY_CONCURRENCY": "2",
            "WECHAT_APP_ID": "wx-smoke-test",
            "WECHAT_APP_SECRET": "smoke-test-secret",
            "WECHAT_API_BASE_URL": wechat.url,
            "MESSAGING_WECHAT_TEMPLATE_ID": "smoke-template",
        }
        (root / ".env").write_text(env_from_example(values))
        phase("prepare")

        # 2. make deploy: a fresh virtualenv from requirements.txt alone, migrate, start.
        deployment.start()
        site = Site(port, HOST)
        site.wait_healthy(timeout=900, process=deployment.stack)
        python = str(root / ".venv" / "bin" / "python")
        freeze = deployment.output(python, "-m", "pip", "freeze").stdout
        assert "pytest" not in freeze.lower() and "packaging==" in freeze, freeze
        status, _, _ = site.request("GET", "/health/", proxy=False)
        assert status == 301, (
            "DEBUG=false redirects plain HTTP to HTTPS (BEHIND_TLS_PROXY: the proxy's header)"
        )
        phase("make deploy (fresh virtualenv, migrate, start)")

        # 3. The operator's first steps, while it runs: an admin, the people, a repair recipient.
        env_admin = clean_environment(DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD)
        subprocess.run(  # noqa: S603
            [python, "manage.py", "createsuperuser", "--noinput", "--username", "admin"],
            cwd=root,
            env=env_admin,
            check=True,
            capture_output=True,
            timeout=120,
        )
        _people_csv(tmp_path / "people.csv")
        deployment.run(python, "manage.py", "import_users", str(tmp_path / "people.csv"))
        site.admin_login("admin", ADMIN_PASSWORD)
        site.admin_add(
            "/admin/repairs/notificationrecipient/add/",
            {"name": "后勤值班", "email": "duty@example.test", "category": "", "user": ""},
        )

        status, admin = site.json(
            "POST", "/auth/get-token/", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert status == 201, admin  # a new token (200 only re-issues a device's own)
        status, teacher = site.json(
            "POST", "/auth/get-token/", data={"username": "T1001", "password": TEACHER_PASSWORD}
        )
        assert status == 201, teacher
        admin_token, teacher_token = admin["token"], teacher["token"]
        status, me = site.json("PUT", "/auth/wechat-auth/", token=teacher_token, data={"code": "t1001"})
        assert status == 200, me
        teacher_id = me["id"]
        phase("admin, people, logins")

        # 4. A scheduled message and a repair with a photo, through HTTP.
        publish_at = timezone.localtime() + timedelta(seconds=5)
        status, sent = site.json(
            "POST",
            "/api/v1/admin/messages",
            token=admin_token,
            data={
                "title": "部署冒烟测试通知",
                "content": "定时消息",
                "type": "notification",
                "priority": "urgent",
                "recipient_ids": [teacher_id],
                "published_at": publish_at.isoformat(),
            },
        )
        assert status == 201, sent  # created
        message_id = sent["data"]["id"]
        photo = _png()
        status, repair = site.json(
            "POST",
            "/repairs/",
            token=teacher_token,
            form={"location": "教学楼 301", "description": "投影仪不亮"},
            files=[("photos", "photo.png", photo, "image/png")],
        )
        assert status == 201, repair
        # A conversation: the admin (staff may start one with anyone) writes to the teacher, who is
        # offline, and resends on a flaky network with the same client_id: stored once, pushed once.
        status, chat = site.json(
            "POST", "/api/v1/conversations/direct", token=admin_token, data={"user_id": teacher_id}
        )
        assert status == 201, chat
        chat_id = chat["data"]["id"]
        for expected in (201, 200):
            status, said = site.json(
                "POST",
                f"/api/v1/conversations/{chat_id}/messages",
                token=admin_token,
                data={"message": "部署冒烟测试会话", "client_id": "smoke-chat-1"},
            )
            assert status == expected, said
        wait_for(
            "the conversation's push to WeChat (through the worker)",
            lambda: [
                m for m in wechat.subscribe_messages if "给你发来消息" in json.dumps(m, ensure_ascii=False)
            ],
            timeout=240,
        )
        phase("message, repair and conversation sent")

        # 5. One process exiting does not stop the others: the worker is killed; supervisord starts a
        # new one while the site answers; the repair is mailed and the message pushed once each.
        worker_pid = deployment.program_pid("worker")
        os.kill(worker_pid, 9)
        assert site.json("GET", "/health/?scope=web")[0] == 200
        wait_for("the repair mail", lambda: _mails_to(inbox, "duty@example.test"), timeout=240)
        wait_for(
            "the scheduled message pushed to WeChat",
            lambda: [m for m in wechat.subscribe_messages if m.get("touser") == "openid-t1001"],
            timeout=240,
        )
        # Urgent: every channel the teacher has, e-mail as well (messaging/delivery.py).
        wait_for("the scheduled message mailed", lambda: _mails_to(inbox, "t1001@example.test"), timeout=120)
        assert "部署冒烟测试通知" in str(
            email.header.make_header(
                email.header.decode_header(_mails_to(inbox, "t1001@example.test")[0]["Subject"])
            )
        )
        assert deployment.program_pid("worker") != worker_pid
        status, inbox_page = site.json("GET", "/api/v1/messages", token=teacher_token)
        assert status == 200 and [m["id"] for m in inbox_page["data"]["messages"]] == [message_id], inbox_page
        status, read = site.json(
            "POST", "/api/v1/messages/read", token=teacher_token, data={"message_ids": [message_id]}
        )
        assert status == 200, read
        status, detail = site.json("GET", f"/repairs/{repair['id']}/", token=teacher_token)
        assert status == 200 and len(detail["photos"]) == 1, detail
        photo_path = detail["photos"][0]["url"].split(HOST, 1)[-1]
        status, _, served_photo = site.request("GET", photo_path, token=teacher_token)
        assert status == 200 and served_photo[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1"), (
            status
        )
        phase("worker killed; mailed and pushed")

        # 6. An ordinary stop exits 0 and leaves nothing running; a start brings it all back.
        assert deployment.stop() == 0
        deployment.start()
        site.wait_healthy(timeout=300, process=deployment.stack)
        status, second = site.json(
            "POST",
            "/repairs/",
            token=teacher_token,
            form={"location": "图书馆", "description": "空调漏水"},
            files=[],
        )
        assert status == 201, second
        wait_for(
            "the second repair's mail", lambda: len(_mails_to(inbox, "duty@example.test")) == 2, timeout=240
        )
        # Once each, although the worker was killed and the stack stopped and started again: the
        # scheduled message and the conversation's message (its resend stored and pushed nothing).
        pushed = [m for m in wechat.subscribe_messages if m.get("touser") == "openid-t1001"]
        assert len(pushed) == 2, pushed
        assert sum("给你发来消息" in json.dumps(m, ensure_ascii=False) for m in pushed) == 1
        assert len(_mails_to(inbox, "t1001@example.test")) == 1
        status, chats = site.json("GET", "/api/v1/conversations", token=teacher_token)
        assert status == 200, chats
        [mine] = chats["data"]["conversations"]
        assert (mine["id"], mine["unread_count"], mine["last_message"]["message"]) == (
            chat_id,
            1,
            "部署冒烟测试会话",
        )
        phase("stop, start, second repair")

        # 7. make backup while it runs; make restore into an empty second database and folder.
        deployment.run("make", "backup")
        archive = max((root / "var" / "backups").glob("wechathhu-*.tar.gz"))
        databases.create(databases.names[1])
        restored_env = tmp_path / "restored.env"
        restored_env.write_text(
            env_from_example(
                {
                    **values,
                    "DATABASE_URL": databases.url(databases.names[1]),
                    "BIND": f"127.0.0.1:{restored_port}",
                    "VAR_DIR": str(tmp_path / "restored-var"),
                    "CACHE_KEY_PREFIX": "restored",
                }
            )
        )
        deployment.run("make", "restore", f"BACKUP={archive}", env_file=restored_env)
        phase("backup and restore")
        web = subprocess.Popen(  # noqa: S603 - the restored deployment's web process alone
            [str(root / ".venv" / "bin" / "gunicorn")],
            cwd=root,
            env=clean_environment(ENV_FILE=str(restored_env)),
            stdout=deployment.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deployment.extra_processes.append(web)
        restored = Site(restored_port, HOST)
        restored.wait_healthy(timeout=300, process=web, path="/health/?scope=web")  # no worker here
        status, again = restored.json(
            "POST", "/auth/get-token/", data={"username": "T1001", "password": TEACHER_PASSWORD}
        )
        assert status == 201, again
        status, messages = restored.json("GET", "/api/v1/messages", token=again["token"])
        assert [(m["id"], m["is_read"]) for m in messages["data"]["messages"]] == [(message_id, True)], (
            messages
        )
        status, _, restored_photo = restored.request("GET", photo_path, token=again["token"])
        assert status == 200 and restored_photo == served_photo
        web.terminate()
        assert web.wait(timeout=60) == 0

        assert deployment.stop() == 0
        phase("restored site checked, stopped")
        print(f"\ndeployment smoke test: {time.monotonic() - started:.0f} s ({'; '.join(phases)})")
    except BaseException:
        print(f"--- phases: {'; '.join(phases)}")
        print(f"--- the deployment's log (all of it: {KEPT_LOG}) ---\n{deployment.tail(150)}")
        raise
    finally:
        KEPT_LOG.parent.mkdir(exist_ok=True)
        shutil.copyfile(deployment.log, KEPT_LOG)
        deployment.kill_everything()
        databases.drop()
