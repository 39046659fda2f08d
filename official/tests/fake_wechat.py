"""A small fake of WeChat's official-account API: a real HTTP server on 127.0.0.1 (a thread),
so that the real wechatpy code runs, over a real socket, against it. Used by the tests and by
the benchmark (whose Celery worker sends the robot's follow-ups to it).

It keeps the state the portal's calls change — tags and their members, menus, QR codes, mass
sends, customer-service and template messages, the mini-program's subscribe messages — and records
every call. ``refuse`` makes an endpoint answer a WeChat error; ``refuse_openid`` does so for one
recipient, ``script_openid`` for one recipient's next calls only (WeChat errcodes, or HTTP
statuses), and ``push_limit_per_second`` answers 45009 beyond a rate. Each app id (the official
account, the mini-program) has its own access token, as on WeChat. ``pushes_per_openid()`` counts
the pushes that went through (template and subscribe messages) per recipient; ``push_delay``
makes each push take that long (a slow WeChat, or time to stop a worker mid-send).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeWeChat:
    def __init__(self, *, port: int = 0, token_ttl: int = 7200):
        self.lock = threading.Lock()
        self.token_ttl = token_ttl
        self.token_fetches = 0
        self.token = "FAKE-TOKEN-0"  # the latest token handed out
        self.tokens: dict[str, str] = {}  # app id -> its current access token
        self.calls: list[tuple[str, dict, object]] = []
        self.tags: dict[int, str] = {2: "星标组"}
        self.tag_members: dict[int, set[str]] = defaultdict(set)
        self.next_id = 100
        self.menus: list[dict] = []
        self.qrcodes: list[dict] = []
        self.mass: list[dict] = []
        self.custom: list[dict] = []
        self.templates: list[dict] = []
        self.subscribe: list[dict] = []  # mini-program subscribe messages sent
        self.pushes: list[tuple[float, str, str]] = []  # (time.time(), kind, openid) of each push
        self.push_delay = 0.0
        self.push_limit_per_second = 0  # 0: no limit; else 45009 beyond it (WeChat's frequency limit)
        self.script_openid: dict[str, list[tuple[int, str] | int]] = defaultdict(list)
        self.oauth_codes: dict[str, dict] = {}
        self.js_codes: dict[str, dict] = {}  # the mini-program's wx.login() codes: code -> openid, unionid
        self.users: dict[str, dict] = {}
        self.refuse: dict[str, tuple[int, str]] = {}
        self.refuse_openid: dict[str, tuple[int, str]] = {}
        self.fail_http: dict[str, int] = {}  # path -> HTTP status to answer instead
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def _answer(self, status: int, payload) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw.decode("utf-8")) if raw else None
                except ValueError:
                    body = raw
                status, payload = fake.dispatch(method, parts.path, query, body)
                self._answer(status, payload)

            def do_GET(self):  # noqa: N802 - http.server's names
                self._handle("GET")

            def do_POST(self):  # noqa: N802
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def start(self) -> FakeWeChat:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- helpers for tests ---------------------------------------------------------------------

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _, _ in self.calls]

    def expire_token(self) -> None:
        """Every access token handed out stops working (WeChat answers 40001 until a new fetch)."""
        with self.lock:
            self.token = f"FAKE-TOKEN-expired-{self.token_fetches}"
            self.tokens = {appid: f"{token}-expired" for appid, token in self.tokens.items()}

    def pushes_per_openid(self, kind: str | None = None) -> Counter:
        """How many pushes each openid received (``kind``: "template" or "subscribe"; both if None)."""
        with self.lock:
            return Counter(openid for _at, k, openid in self.pushes if kind in (None, k))

    def push_times(self) -> list[float]:
        """When each push went through (``time.time()``, the clock the outbox paces by), in order."""
        with self.lock:
            return [at for at, _kind, _openid in self.pushes]

    # --- the API -------------------------------------------------------------------------------

    PUSH_PATHS = {
        "/cgi-bin/message/template/send": "template",
        "/cgi-bin/message/subscribe/send": "subscribe",
    }

    def dispatch(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        if path in self.PUSH_PATHS and self.push_delay:
            time.sleep(self.push_delay)  # outside the lock: slow pushes overlap, as on WeChat
        with self.lock:
            self.calls.append((path, query, body))
            if path in self.fail_http:
                return self.fail_http[path], {"error": "server error"}
            if path == "/cgi-bin/token":
                self.token_fetches += 1
                self.token = f"FAKE-TOKEN-{self.token_fetches}"
                self.tokens[query.get("appid", "")] = self.token
                return 200, {"access_token": self.token, "expires_in": self.token_ttl}
            if path == "/sns/oauth2/access_token":
                found = self.oauth_codes.pop(query.get("code", ""), None)
                if found is None:
                    return 200, {"errcode": 40029, "errmsg": "invalid code"}
                return 200, {
                    "access_token": "WEB",
                    "expires_in": 7200,
                    "refresh_token": "R",
                    "scope": "snsapi_base",
                    **found,
                }
            if path == "/sns/jscode2session":  # the mini-program's login (signed by its secret)
                found = self.js_codes.pop(query.get("js_code", ""), None)
                if found is None:
                    return 200, {"errcode": 40029, "errmsg": "invalid code"}
                return 200, {"session_key": "SESSION-KEY", **found}
            if query.get("access_token") not in {self.token, *self.tokens.values()}:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            if path in self.PUSH_PATHS:
                scripted = self._scripted(body)
                if scripted is not None:
                    return scripted
            short = path.removeprefix("/cgi-bin/")
            if short in self.refuse:
                code, message = self.refuse[short]
                return 200, {"errcode": code, "errmsg": message}
            handler = getattr(self, "_" + short.replace("/", "_"), None)
            if handler is None:
                return 404, {"errcode": 404, "errmsg": f"no fake for {path}"}
            return 200, handler(query, body or {})

    def _ok(self, **extra):
        return {"errcode": 0, "errmsg": "ok", **extra}

    def _recipient_refused(self, openid):
        if openid in self.refuse_openid:
            code, message = self.refuse_openid[openid]
            return {"errcode": code, "errmsg": message}
        return None

    def _scripted(self, body) -> tuple[int, object] | None:
        """The answer scripted for this push's recipient, or WeChat's rate limit, if any."""
        openid = body.get("touser") if isinstance(body, dict) else None
        script = self.script_openid.get(openid)
        if script:
            answer = script.pop(0)
            if isinstance(answer, int):  # an HTTP status (a proxy's 502, WeChat's 500 …)
                return answer, {"error": "server error"}
            return 200, {"errcode": answer[0], "errmsg": answer[1]}
        if self.push_limit_per_second:
            now = time.time()
            recent = sum(
                1 for at, _kind, _openid in self.pushes[-self.push_limit_per_second :] if now - at < 1
            )
            if recent >= self.push_limit_per_second:
                return 200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
        return None

    def _pushed(self, kind: str, openid: str) -> None:
        self.pushes.append((time.time(), kind, openid))

    def _message_custom_send(self, query, body):
        refused = self._recipient_refused(body.get("touser"))
        if refused:
            return refused
        self.custom.append(body)
        return self._ok()

    def _message_template_send(self, query, body):
        refused = self._recipient_refused(body.get("touser"))
        if refused:
            return refused
        self.templates.append(body)
        self._pushed("template", body.get("touser"))
        return self._ok(msgid=1_000_000 + len(self.templates))

    def _message_subscribe_send(self, query, body):
        """The mini-program's subscribeMessage.send (one openid a call)."""
        refused = self._recipient_refused(body.get("touser"))
        if refused:
            return refused
        self.subscribe.append(body)
        self._pushed("subscribe", body.get("touser"))
        return self._ok()

    def _menu_create(self, query, body):
        self.menus.append(body)
        return self._ok()

    def _qrcode_create(self, query, body):
        self.qrcodes.append(body)
        scene = body["action_info"]["scene"].get("scene_str") or body["action_info"]["scene"].get("scene_id")
        return {"ticket": f"TICKET-{scene}", "url": f"http://weixin.qq.com/q/fake-{scene}"}

    def _tags_get(self, query, body):
        return {
            "tags": [
                {"id": i, "name": n, "count": len(self.tag_members[i])} for i, n in sorted(self.tags.items())
            ]
        }

    def _tags_create(self, query, body):
        name = body["tag"]["name"]
        if len(self.tags) >= 100:
            return {"errcode": 45056, "errmsg": "too many tags"}
        if name in self.tags.values():
            return {"errcode": 45157, "errmsg": "tag name already exists"}
        self.next_id += 1
        self.tags[self.next_id] = name
        return {"tag": {"id": self.next_id, "name": name}}

    def _tags_update(self, query, body):
        self.tags[body["tag"]["id"]] = body["tag"]["name"]
        return self._ok()

    def _tags_delete(self, query, body):
        tag_id = body["tag"]["id"]
        self.tags.pop(tag_id, None)
        self.tag_members.pop(tag_id, None)
        return self._ok()

    def _tags_members_batchtagging(self, query, body):
        if len(body["openid_list"]) > 50:
            return {"errcode": 40032, "errmsg": "invalid openid list size"}
        self.tag_members[body["tagid"]].update(body["openid_list"])
        return self._ok()

    def _tags_members_batchuntagging(self, query, body):
        if len(body["openid_list"]) > 50:
            return {"errcode": 40032, "errmsg": "invalid openid list size"}
        self.tag_members[body["tagid"]].difference_update(body["openid_list"])
        return self._ok()

    def _mass_answer(self, body):
        if any(m.get("clientmsgid") == body.get("clientmsgid") for m in self.mass):
            return {"errcode": 45065, "errmsg": "clientmsgid exist"}
        self.mass.append(body)
        return self._ok(msg_id=5_000_000 + len(self.mass), msg_data_id=7_000_000 + len(self.mass))

    def _message_mass_send(self, query, body):
        if not 2 <= len(body.get("touser") or []) <= 10000:
            return {"errcode": 40130, "errmsg": "invalid openid list size, at least two openid"}
        return self._mass_answer(body)

    def _message_mass_sendall(self, query, body):
        return self._mass_answer(body)

    def mass_recipients(self, body) -> list[str]:
        """Who a recorded mass send reached: its openid list, its tag's members or everyone."""
        if "touser" in body:
            return list(body["touser"])
        if body["filter"].get("is_to_all"):
            return sorted(self.users)
        return sorted(self.tag_members[body["filter"]["tag_id"]])

    def _user_info(self, query, body):
        openid = query.get("openid")
        return {"subscribe": 1, "openid": openid, **self.users.get(openid, {})}
