"""Conversations as deployed (issue 14), a drill rather than a test: ``manage.py stack start``
(gunicorn gthread, a Celery worker and beat under supervisord) on a database of its own (dropped and
created: ``wh_conv_stack``), Redis db 1 (FLUSHED first), ports 8102–8104, a fake WeChat and an
aiosmtpd sink. Two bound users converse (one offline: pushed through the worker), the events
long-poll is timed, the worker is killed -9 in a burst of pushes, the whole stack is stopped in the
middle of 1 200 group sends and started again; it prints what it saw (messages once, seq without
gaps, each push once per conversation and openid). Edit the names at the top for another machine.

    .venv/bin/python scripts/conversations_stack_drill.py
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(os.environ.get("DRILL_DIR", "/tmp/conv_stack"))  # noqa: S108 - a drill's scratch folder
DB = "wh_conv_stack"
MESSAGES = 1200
WEB, SMTP_PORT, WX_PORT = 8102, 8103, 8104
PY = str(ROOT / ".venv/bin/python")

from aiosmtpd.controller import Controller  # noqa: E402

from official.tests.fake_wechat import FakeWeChat  # noqa: E402


class Fake(FakeWeChat):
    def dispatch(self, method, path, query, body):
        if path == "/sns/jscode2session":
            with self.lock:
                self.calls.append((path, query, body))
            return 200, {"openid": f"openid-{query.get('js_code')}", "session_key": "k"}
        return super().dispatch(method, path, query, body)


class Inbox:
    def __init__(self):
        self.rcpts = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.rcpts.extend(envelope.rcpt_tos)
        return "250 OK"


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": "http://127.0.0.1:8102",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{DB}",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "CACHE_KEY_PREFIX": "convstack",
    "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
    "BIND": f"127.0.0.1:{WEB}",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_WORKER_CLASS": "gthread",
    "GUNICORN_THREADS": "8",
    "CELERY_CONCURRENCY": "2",
    "WECHAT_APP_ID": "wx-conv-stack",
    "WECHAT_APP_SECRET": "conv-stack-secret",
    "WECHAT_API_BASE_URL": f"http://127.0.0.1:{WX_PORT}/",
    "MESSAGING_WECHAT_TEMPLATE_ID": "conv-template",
    "VAR_DIR": str(WORK / "var"),
    "OUTBOX_LEASE_SECONDS": "15",
    "OUTBOX_SWEEP_GRACE_SECONDS": "5",
    "LOG_LEVEL": "INFO",
    "THROTTLE_LOGIN": "1000/min",
    "THROTTLE_LOGIN_USER": "1000/min",
}


def env():
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "USER")}
    return {**keep, "ENV_FILE": str(WORK / "stack.env")}


def manage(*args, check=True, capture=False):
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env(), check=check, capture_output=capture, text=True
    )


def http(method, path, token=None, data=None, timeout=60):
    heads = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        heads["Authorization"] = f"Bearer {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{WEB}{path}", data=body, method=method, headers=heads)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_up(timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, body = http("GET", "/health/", timeout=5)
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit("stack not healthy")


class Stack:
    def start(self):
        self.log = (WORK / "stack.log").open("a")
        self.process = subprocess.Popen(
            [PY, "manage.py", "stack", "start"],
            cwd=ROOT,
            env=env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_up()

    def stop(self):
        manage("stack", "stop")
        code = self.process.wait(timeout=240)
        self.log.close()
        return code

    def pid(self, name):
        out = manage("stack", "status", capture=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith(name) and "RUNNING" in line:
                return int(line.split("pid ")[1].split(",")[0])
        return None


def main():
    WORK.mkdir(exist_ok=True)
    (WORK / "stack.env").write_text("".join(f"{k}={v}\n" for k, v in ENV.items()))
    subprocess.run(
        [
            "mysql",
            "-uroot",
            "-h127.0.0.1",
            "-e",
            f"DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB} CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_unicode_ci",
        ],
        check=True,
    )
    subprocess.run(["redis-cli", "-n", "1", "FLUSHDB"], check=True, capture_output=True)
    fake = Fake(port=WX_PORT).start()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    smtp.start()
    manage("migrate", "-v", "0")
    people = 41
    manage(
        "shell",
        "-c",
        f"""
from accounts.models import Department, User
d, _ = Department.objects.get_or_create(name="会话演练系")
from django.contrib.auth.hashers import make_password
hashed = make_password("Drill-pass-123")
for n in range({people} + 1):
    User.objects.create(username=f"C{{n:03d}}", password=hashed, last_name="演练",
        first_name=f"{{n}}号", kind="teacher", department=d,
        email=f"c{{n:03d}}@example.test" if n == 2 else "")
""",
    )
    stack = Stack()
    stack.start()
    log("stack up:", http("GET", "/health/")[1])
    tokens = {}
    for n in range(people + 1):
        status, body = http(
            "POST", "/auth/get-token/", data={"username": f"C{n:03d}", "password": "Drill-pass-123"}
        )
        assert status == 201, body
        tokens[n] = body["token"]
    ids = {}
    for n in range(people + 1):
        if n != 2:  # C002 has only e-mail
            status, me = http("PUT", "/auth/wechat-auth/", tokens[n], {"code": f"c{n:03d}"})
            assert status == 200, me
        ids[n] = http("GET", "/current-user/", tokens[n])[1]["id"]
    a, b, c = 0, 1, 2
    http("POST", "/api/v1/presence/ping", tokens[a])  # A online; B and C offline

    # --- 1. A writes to B (WeChat) and C (e-mail): one push each, through the worker ---------------
    status, conv_ab = http("POST", "/api/v1/conversations/direct", tokens[a], {"user_id": ids[b]})
    assert status == 201, conv_ab
    conv_ab = conv_ab["data"]["id"]
    status, conv_ac = http("POST", "/api/v1/conversations/direct", tokens[a], {"user_id": ids[c]})
    conv_ac = conv_ac["data"]["id"]
    for text in ("在吗？", "明天的会改到下午三点。", "收到请回复。"):
        for conv in (conv_ab, conv_ac):
            status, sent = http(
                "POST",
                f"/api/v1/conversations/{conv}/messages",
                tokens[a],
                {"message": text, "client_id": f"{conv}-{len(text)}"},
            )
            assert status == 201, sent
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        fake.pushes_per_openid()["openid-c001"] and "c002@example.test" in inbox.rcpts
    ):
        time.sleep(0.5)
    log("burst of 3 to offline B and C:", dict(fake.pushes_per_openid()), Counter(inbox.rcpts))
    # B reads and answers: A sees it through the events long-poll, within a second.
    status, unread = http("GET", "/api/v1/conversations/unread", tokens[b])
    log("B's badge:", unread["data"])
    status, ev = http("GET", "/api/v1/conversations/events?wait=0", tokens[a])
    since = ev["data"]["seq"]
    got = {}

    def poll():
        started = time.monotonic()
        got["status"], got["body"] = http("GET", f"/api/v1/conversations/events?since={since}", tokens[a])
        got["at"] = time.monotonic()
        got["waited"] = got["at"] - started

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(2)  # A's long-poll is waiting in a gthread thread
    sent_at = time.monotonic()
    status, reply = http(
        "POST", f"/api/v1/conversations/{conv_ab}/messages", tokens[b], {"message": "好的，收到！"}
    )
    assert status == 201, reply
    waiter.join(30)
    log(
        f"long-poll: answered {got['at'] - sent_at:.3f} s after B's send was posted "
        f"(waited {got['waited']:.2f} s), changed={got['body']['data']['changed']}"
    )
    status, page = http("GET", f"/api/v1/conversations/{conv_ab}/messages?after=3", tokens[a])
    log("A reads after=3:", [(m["seq"], m["message"]) for m in page["data"]["messages"]])

    # --- 2. A burst of pushes, the worker killed -9 in the middle -----------------------------------
    fake.push_delay = 0.3
    offline = list(range(3, people + 1))  # 39 bound users, offline
    status, many = http(
        "POST",
        "/api/v1/conversations/send",
        tokens[a],
        {
            "recipient_ids": [ids[n] for n in offline],
            "message": "紧急：请查看群公告",
            "client_id": "fanout-1",
        },
    )
    assert status == 200, many
    log("send to many:", Counter(r["status"] for r in many["data"]))
    target = len(offline) // 3
    while sum(fake.pushes_per_openid()[f"openid-c{n:03d}"] for n in offline) < target:
        time.sleep(0.05)
    worker = stack.pid("worker")
    os.kill(worker, signal.SIGKILL)
    log(f"worker {worker} killed -9 after {target} pushes")
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        counts = fake.pushes_per_openid()
        if all(counts[f"openid-c{n:03d}"] for n in offline):
            break
        time.sleep(1)
    counts = fake.pushes_per_openid()
    log(
        "after the kill: pushed",
        sum(1 for n in offline if counts[f"openid-c{n:03d}"]),
        "of",
        len(offline),
        "doubled",
        [n for n in offline if counts[f"openid-c{n:03d}"] > 1],
        "new worker",
        stack.pid("worker"),
    )

    # --- 3. The whole stack stopped mid-send; clients retry with their client_id --------------------
    fake.push_delay = 0.0
    status, grp = http(
        "POST",
        "/api/v1/conversations/groups",
        tokens[a],
        {"name": "演练群", "member_ids": [ids[n] for n in range(1, 11)]},
    )
    assert status == 201, grp
    grp = grp["data"]["id"]
    outcomes = {}
    failures = []  # attempts that failed while the stack was down (retried with the same client_id)

    def sender(k):
        for i in range(k, MESSAGES, 6):
            body = {"message": f"群消息 {i}", "client_id": f"drill-{i}"}
            while True:
                try:
                    status, _ = http(
                        "POST", f"/api/v1/conversations/{grp}/messages", tokens[k % 11], body, timeout=30
                    )
                    if status in (200, 201):
                        outcomes[i] = outcomes.get(i, []) + [status]
                        break
                except Exception as exc:  # noqa: BLE001 - down, refused, a proxy's page: retry
                    failures.append(repr(exc)[:80])
                time.sleep(0.5)  # the server is down: retry the same client_id

    for k in range(6):  # the senders are online: the offline members 6..10 get one push each
        http("POST", "/api/v1/presence/ping", tokens[k])
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    time.sleep(3)
    log("stopping the whole stack mid-send, sent so far:", len(outcomes))
    code = stack.stop()
    log("stack stop exit:", code, "sent before restart:", len(outcomes), "failed attempts:", len(failures))
    time.sleep(3)
    stack.start()
    for k in range(6):
        http("POST", "/api/v1/presence/ping", tokens[k])
    log("restarted")
    for t in threads:
        t.join(300)
    page_ids, after = [], 0
    while True:
        status, page = http("GET", f"/api/v1/conversations/{grp}/messages?after={after}&limit=100", tokens[5])
        rows = sorted((m["seq"], m["message"]) for m in page["data"]["messages"])
        page_ids += rows
        if not page["data"]["has_more"]:
            break
        after = rows[-1][0]
    texts = Counter(t for _, t in page_ids)
    seqs = [s for s, _ in page_ids]
    log(
        "group after restart:",
        len(page_ids),
        "messages; doubled",
        [t for t, n in texts.items() if n > 1],
        "seq 1..N",
        seqs == list(range(1, len(seqs) + 1)),
        "missing",
        MESSAGES - len(texts),
        "answered twice (resend→200)",
        sum(1 for v in outcomes.values() if v[-1] == 200),
    )
    time.sleep(70)  # a sweep after the restart
    counts = fake.pushes_per_openid()
    log("pushes per openid at the fake:", dict(counts))
    log("mails:", Counter(inbox.rcpts))
    expected = Counter({"openid-c001": 1})
    for n in offline:
        expected[f"openid-c{n:03d}"] += 1
    for n in range(6, 11):
        expected[f"openid-c{n:03d}"] += 1
    log(
        "pushes as expected (one per conversation per offline member):",
        counts == expected,
        "differences:",
        {k: (counts[k], expected[k]) for k in set(counts) | set(expected) if counts[k] != expected[k]},
    )
    log("mails as expected:", Counter(inbox.rcpts) == Counter({"c002@example.test": 1}))
    stack.stop()
    smtp.stop()
    fake.stop()


if __name__ == "__main__":
    main()
