"""Presence and per-user event sequences, kept in the cache (Redis in production) only.

**Presence** (issue 14 item 6). ``presence:<user id>`` holds the time of the last ping (seconds),
or its negative once the user logged out. A user is *online* when their last ping is younger
than ``CONVERSATIONS_PRESENCE_ONLINE_SECONDS``. A ping is one cache write and no SQL; once per
``CONVERSATIONS_LAST_SEEN_PERSIST_SECONDS`` a ping also enqueues a task that writes
``User.last_seen_at`` (so the last seen time outlives the cache). With the cache unreachable,
everybody's state is ``unknown`` and nothing fails.

**Events** (item 8). ``events:<user id>`` is a counter raised (after the commit) whenever
something happens in one of the user's conversations: a message, a recall, a read elsewhere, a
member change. ``GET /api/v1/conversations/events?since=N`` waits until it passes ``N``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from wechathhu.api.exceptions import is_cache_outage

logger = logging.getLogger(__name__)

PRESENCE = "presence:{}"
PERSIST_GATE = "presence:persisted:{}"
EVENTS = "events:{}"
KEEP_SECONDS = 30 * 24 * 3600  # a cached last-ping outlives any database write gate

ONLINE, OFFLINE, UNKNOWN, HIDDEN = "online", "offline", "unknown", "hidden"


def _redis():
    """The raw Redis client behind the default cache, or None (another backend)."""
    backend = getattr(cache, "_cache", None)
    if backend is not None and hasattr(backend, "get_client"):
        return backend.get_client(write=True)
    return None


def _outage(exc: Exception, what: str) -> None:
    if not is_cache_outage(exc):
        raise exc
    logger.warning("Cache unavailable (%s): %r", what, exc)


# --- Presence -----------------------------------------------------------------------------------


def presence_ping(user_id: int) -> bool:
    """Mark ``user_id`` online now; False when the cache is unreachable (state unknown)."""
    now = time.time()
    try:
        cache.set(PRESENCE.format(user_id), now, timeout=KEEP_SECONDS)
        persist = cache.add(
            PERSIST_GATE.format(user_id), 1, timeout=settings.CONVERSATIONS_LAST_SEEN_PERSIST_SECONDS
        )
    except Exception as exc:
        _outage(exc, "presence ping")
        return False
    if persist:
        from .tasks import presence_persist_task

        try:
            presence_persist_task.delay(user_id=user_id, seen_at=now)
        except Exception as exc:  # the broker is down: last_seen waits for the next gate
            logger.warning("Could not enqueue last_seen for user %s: %r", user_id, exc)
    return True


def presence_offline(user_id: int) -> None:
    """``user_id`` logged out: offline at once (the last seen time is kept)."""
    try:
        cache.set(PRESENCE.format(user_id), -time.time(), timeout=KEEP_SECONDS)
    except Exception as exc:
        _outage(exc, "presence offline")


def presence_raw(user_ids: Iterable[int]) -> dict[int, float] | None:
    """The last ping of each user (negative: logged out then); None when the cache is down."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    try:
        found = cache.get_many([PRESENCE.format(i) for i in ids])
    except Exception as exc:
        _outage(exc, "presence read")
        return None
    return {i: found[PRESENCE.format(i)] for i in ids if PRESENCE.format(i) in found}


def presence_online_ids(user_ids: Iterable[int]) -> set[int] | None:
    raw = presence_raw(user_ids)
    if raw is None:
        return None
    limit = time.time() - settings.CONVERSATIONS_PRESENCE_ONLINE_SECONDS
    return {uid for uid, ts in raw.items() if ts > 0 and ts >= limit}


class PresenceBook:
    """Presence of many users as one viewer may see it: one cache round trip, no SQL beyond the
    viewer's friendships (``ContactVisibility``, loaded once when a ``colleagues`` rule needs it).

    The users passed must carry ``department_id``, ``presence_visibility`` and ``last_seen_at``.
    """

    def __init__(self, viewer, users):
        from accounts.privacy import ContactVisibility

        self.visibility = ContactVisibility(viewer)
        self.raw = presence_raw(u.pk for u in users)

    def state(self, user) -> dict:
        if not self.visibility.allows(user, user.presence_visibility):
            return {"state": HIDDEN, "last_seen_at": None}
        if self.raw is None:
            return {"state": UNKNOWN, "last_seen_at": user.last_seen_at}
        from datetime import UTC, datetime

        ts = self.raw.get(user.pk)
        last_seen = user.last_seen_at
        if ts is not None:
            cached = datetime.fromtimestamp(abs(ts), tz=UTC)
            if last_seen is None or cached > last_seen:
                last_seen = cached
        online = (
            ts is not None and ts > 0 and ts >= time.time() - settings.CONVERSATIONS_PRESENCE_ONLINE_SECONDS
        )
        return {"state": ONLINE if online else OFFLINE, "last_seen_at": last_seen}


# --- Events -------------------------------------------------------------------------------------


def events_bump(user_ids: Iterable[int]) -> None:
    """Something happened for each of ``user_ids`` (call after the commit)."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return
    try:
        client = _redis()
        if client is not None:
            pipe = client.pipeline(transaction=False)
            for uid in ids:
                key = cache.make_and_validate_key(EVENTS.format(uid))
                pipe.incr(key)
                pipe.expire(key, KEEP_SECONDS)
            pipe.execute()
            return
        for uid in ids:
            key = EVENTS.format(uid)
            cache.add(key, 0, timeout=KEEP_SECONDS)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=KEEP_SECONDS)
    except Exception as exc:
        _outage(exc, "events bump")


def events_seq(user_id: int) -> int | None:
    """The user's event counter (0 when nothing happened yet); None when the cache is down."""
    try:
        return int(cache.get(EVENTS.format(user_id)) or 0)
    except Exception as exc:
        _outage(exc, "events read")
        return None


def events_wait(
    user_id: int, since: int | None, seconds: float, *, step: float = 0.25
) -> tuple[int | None, bool]:
    """``(counter, changed)``: waits up to ``seconds`` for the counter to differ from ``since``
    (at once when ``since`` is None or already behind). Polls the cache every ``step`` seconds:
    one GET of a small key, cheap for Redis."""
    deadline = time.monotonic() + max(0.0, seconds)
    while True:
        current = events_seq(user_id)
        if current is None:
            return None, False
        if since is None or current != since:
            return current, since is not None
        if time.monotonic() >= deadline:
            return current, False
        time.sleep(step)
