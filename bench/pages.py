"""The H5 portal's pages in the bench: browser sessions for the bench users, the page scenarios'
requests, and the page-weight check (a first load with a cold cache, compressed as served)."""

import gzip
import re
import urllib.request
from datetime import timedelta
from urllib.parse import urljoin

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from .server import credentials_header

ASSET_RE = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"')
PAGE_WEIGHT_LIMIT = 100 * 1024


def session_cookies(user_ids: list[int]) -> list[str]:
    """A signed-in session per user, as a browser's ``Cookie: sessionid=…`` (written straight to the
    session table: the bench measures pages, not logins)."""
    from accounts.models import User

    cookies = []
    for user in User.objects.filter(pk__in=user_ids).only("pk", "password"):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.set_expiry(timedelta(days=1))
        store.create()
        cookies.append(f"Cookie: sessionid={store.session_key}")
    return cookies


def page_paths() -> dict[str, str]:
    """The pages measured, by name: each list page at its first page of results."""
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    return {
        "home": "/m/",
        "inbox": "/m/messages/",
        "contacts": "/m/contacts/",
        "contacts all": "/m/contacts/?scope=all",
        "contacts search": "/m/contacts/?q=zhang&scope=all",
        "rooms day": f"/m/rooms/?date={day}",
        "rooms search (length)": f"/m/rooms/search/?date={day}&time_from=08:00&time_to=18:00&length=60",
        "activities": "/m/activities/",
        "repairs": "/m/repairs/",
        "guides": "/m/guides/",
        "me": "/m/me/",
    }


def _get(url: str, cookie: str) -> tuple[int, bytes, str]:
    """Bytes on the wire for ``url`` (gzip asked for, as a browser does), and the decoded text."""
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, headers={"Accept-Encoding": "gzip", "Accept": "text/html", **credentials_header(cookie)}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        raw = response.read()
        encoded = response.headers.get("Content-Encoding") == "gzip"
        status = response.status
    return status, raw, (gzip.decompress(raw) if encoded else raw).decode("utf-8", "replace")


def page_weight(base_url: str, cookie: str) -> dict:
    """Every page's first load with a cold cache: the HTML and every stylesheet and script it
    names, in bytes transferred (compressed where the server compresses). Target: < 100 KB."""
    weights = {}
    for name, path in page_paths().items():
        status, raw, text = _get(base_url + path, cookie)
        total = len(raw)
        for asset in sorted(set(ASSET_RE.findall(text))):
            total += len(_get(urljoin(base_url, asset), cookie)[1])
        weights[name] = round(total / 1024, 1) if status == 200 else None
    heaviest = max((w for w in weights.values() if w is not None), default=None)
    return {
        "check": "first load of each page, cold cache (KB transferred)",
        "target": "< 100 KB each",
        "pages_kb": weights,
        "heaviest_kb": heaviest,
        "passed": heaviest is not None
        and None not in weights.values()
        and heaviest * 1024 < PAGE_WEIGHT_LIMIT,
    }
