"""What the deployment tests do as an operator would: a copy of the project, a ``.env`` written from
``.env.example``, the README's SQL, and HTTP through a (pretend) TLS proxy. The outside world is faked
at its edge: a WeChat HTTP server on a free port; mail goes to a real local SMTP server (conftest)."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The operator's files ---------------------------------------------------------------------------


def env_from_example(values: dict[str, str], example: str | None = None) -> str:
    """``.env.example`` with ``values`` filled in as an operator does in an editor: a ``KEY=…`` line is
    changed, else a commented ``# KEY=…`` line is uncommented, else the line is added at the end."""
    lines = (example if example is not None else (ROOT / ".env.example").read_text()).splitlines()
    for key, value in values.items():
        for pattern in (rf"^{key}=", rf"^# {key}="):
            hits = [i for i, line in enumerate(lines) if re.match(pattern, line)]
            if hits:
                lines[hits[0]] = f"{key}={value}"
                break
        else:
            lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def readme_sql() -> list[str]:
    """The statements of the README's ```sql block (creating the database and its user)."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sql\n(.*?)```", readme, re.S)
    assert block, "README.md has no ```sql block (Full deployment: creating the database)"
    return [s.strip() for s in block.group(1).split(";") if s.strip() and not s.strip().startswith("--")]


def copy_project(target: Path) -> None:
    """The project as a fresh clone has it: the files git tracks (and new ones it does not ignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def clean_environment(**extra: str) -> dict[str, str]:
    """What a login shell on the server has: none of the test run's own settings (the environment
    wins over .env, so a DATABASE_URL left here would point the deployment at the test database)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "PYENV_ROOT", "PYENV_VERSION", "CI")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith(("PIP_", "PYENV_"))}
    env.update(
        {k: v for k, v in os.environ.items() if k.lower() in ("http_proxy", "https_proxy", "no_proxy")}
    )
    env.update(extra)
    return env


# --- Processes -------------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything under it (supervisord puts each program in its own process
    group, so killing one group is not enough). For cleaning up after a failed test only."""
    for target in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


# --- HTTP through the TLS proxy ---------------------------------------------------------------------


class Site:
    """Requests as the TLS-terminating proxy forwards them: ``Host`` the public name and
    ``X-Forwarded-Proto: https``. Cookies are kept by hand (they are Secure, and this is plain HTTP)."""

    def __init__(self, port: int, host: str):
        self.base = f"http://127.0.0.1:{port}"
        self.host = host
        self.cookies: dict[str, str] = {}

    def request(
        self, method, path, *, token=None, data=None, form=None, files=None, headers=None, proxy=True
    ):
        heads = {"Host": self.host, **(headers or {})}
        if proxy:
            heads["X-Forwarded-Proto"] = "https"
        if token:
            heads["Authorization"] = f"Token {token}"
        if self.cookies:
            heads["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if files is not None:
            body, heads["Content-Type"] = multipart(form or {}, files)
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            heads["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data).encode()
            heads["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=heads)  # noqa: S310
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            content = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, value = header.split(";", 1)[0].split("=", 1)
                self.cookies[name.strip()] = value.strip()
            return response.status, response.headers, content

    def json(self, method, path, **kwargs):
        status, _, content = self.request(method, path, **kwargs)
        try:
            return status, json.loads(content or b"null")
        except ValueError:
            return status, content.decode(errors="replace")[:500]

    def wait_healthy(self, *, timeout: float, process=None, path="/health/"):
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the stack exited ({process.returncode}) before /health/ was ok")
            try:
                status, body = self.json("GET", path)
                last = (status, body)
                if status == 200:
                    return body
            except OSError as exc:
                last = repr(exc)
            time.sleep(1)
        raise AssertionError(f"/health/ not ok within {timeout:.0f} s: {last}")

    def admin_login(self, username, password):
        """The admin's login form, as a browser behind the proxy posts it (CSRF, Origin, cookies)."""
        status, _, page = self.request("GET", "/admin/login/")
        assert status == 200, (status, page[:300])
        status, headers, page = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            form={"csrfmiddlewaretoken": csrf_token(page), "username": username, "password": password},
            headers={"Origin": f"https://{self.host}", "Referer": f"https://{self.host}/admin/login/"},
        )
        assert status == 302 and "sessionid" in self.cookies, (status, page[:500])

    def admin_add(self, path, fields):
        status, _, page = self.request("GET", path)
        assert status == 200, (status, page[:300])
        status, headers, page = self.request(
            "POST",
            path,
            form={"csrfmiddlewaretoken": csrf_token(page), **fields, "_save": "保存"},
            headers={"Origin": f"https://{self.host}", "Referer": f"https://{self.host}{path}"},
        )
        assert status == 302, (status, page.decode(errors="replace")[:2000])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def csrf_token(page: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, content, content_type in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- WeChat, faked at its HTTP edge ------------------------------------------------------------------


class FakeWeChat:
    """WeChat's HTTP API as the portal's wechatpy client calls it: an access token, code2session
    (openid ``openid-<code>``) and subscribe messages, which it records."""

    def __init__(self):
        self.subscribe_messages: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, payload):
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - http.server's name
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                if url.path.endswith("/token"):
                    return self._answer({"access_token": "FAKE-ACCESS", "expires_in": 7200})
                if url.path.endswith("/jscode2session"):
                    code = query.get("js_code", ["?"])[0]
                    return self._answer({"openid": f"openid-{code}", "session_key": "fake-session"})
                return self._answer({"errcode": 40001, "errmsg": f"unknown {url.path}"})

            def do_POST(self):  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if url.path.endswith("/message/subscribe/send"):
                    fake.subscribe_messages.append(body)
                    return self._answer({"errcode": 0, "errmsg": "ok"})
                return self._answer({"errcode": 40001, "errmsg": f"unknown {url.path}"})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_for(what: str, predicate, *, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")
