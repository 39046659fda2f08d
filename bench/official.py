"""The official account's webhook under load: robot commands as WeChat sends them (signed, each
with its own MsgId), and 500 followers subscribing at once with every event delivered three times.

The server runs with ``OFFICIAL`` settings (a token this process signs with) and its WeChat API
pointed at a local fake (``official.tests.fake_wechat``), so nothing ever reaches WeChat.
"""

from __future__ import annotations

import time

from django.db import close_old_connections

from official.tests import wechat_side as wx

from .burst import figures, run_once

OFFICIAL = {
    "WECHAT_OFFICIAL_APP_ID": "wxbench0000000001",
    "WECHAT_OFFICIAL_APP_SECRET": "bench-secret",
    "WECHAT_OFFICIAL_TOKEN": "bench-official-token",
}
FOLLOWER_PREFIX = "oBENCH"
STORM_PREFIX = "oSTORM"
STORM_USERS = 500
STORM_COPIES = 3


def openid_of(user_id: int, prefix: str = FOLLOWER_PREFIX) -> str:
    return f"{prefix}{user_id:022d}"


def _side() -> wx.WeChatSide:
    return wx.WeChatSide(token=OFFICIAL["WECHAT_OFFICIAL_TOKEN"])


def bind_followers(tokens: list[tuple[int, str]]) -> None:
    """The bench users follow the account and are bound (as the page login would leave them)."""
    from django.utils import timezone

    from official.models import Follower

    now = timezone.now()
    Follower.objects.bulk_create(
        [
            Follower(openid=openid_of(uid), user_id=uid, bound_at=now, subscribed=True, subscribed_at=now)
            for uid, _ in tokens
        ],
        ignore_conflicts=True,
    )


def robot_requests(tokens: list[tuple[int, str]], command: str, *, count: int = 30000) -> list:
    """``count`` distinct deliveries of ``command`` (their own MsgId, signed now) from the bound
    bench users in turn. wrk cycles through them: the list is long enough that a run of the bench's
    length sends no delivery twice (a repeat would be answered from the de-duplication row)."""
    bind_followers(tokens)
    side = _side()
    # MsgIds never seen before (this run's milliseconds): a repeat would be a de-duplication hit.
    base = time.time_ns() // 1_000_000 * 100_000
    requests = []
    for n in range(count):
        uid = tokens[n % len(tokens)][0]
        path, body = side.signed_path(wx.text(openid_of(uid), command, msg_id=base + n))
        requests.append(("POST", path, "", body))
    return requests


def subscribe_storm(
    base_url: str, *, users: int = STORM_USERS, copies: int = STORM_COPIES, concurrency: int = 64
) -> dict:
    """``users`` distinct followers subscribe at once and WeChat delivers each event ``copies``
    times (its retries), the copies of one event sent next to each other so that they race on
    different workers. Afterwards: one follower and one recorded event (with its welcome reply)
    per user, nothing doubled."""
    from official.models import Follower, InboundMessage

    Follower.objects.filter(openid__startswith=STORM_PREFIX).delete()  # cascades to their events
    close_old_connections()
    side = _side()
    at = int(time.time())
    openids = [openid_of(n, STORM_PREFIX) for n in range(users)]
    jobs = []
    for openid in openids:
        body = wx.event(openid, "subscribe", at=at)
        for _ in range(copies):
            # Each copy signed on its own (WeChat signs each try), all made when sent.
            jobs.append(lambda body=body: _signed(side, body))
    results, took = run_once(base_url, jobs, concurrency=concurrency)
    out = figures(results, took)
    followers = Follower.objects.filter(openid__startswith=STORM_PREFIX)
    events = InboundMessage.objects.filter(follower__openid__startswith=STORM_PREFIX, event="subscribe")
    welcomed = events.exclude(reply="").count()
    out["check"] = {
        "check": f"subscribe storm: {users:,} users × {copies} deliveries, {concurrency} at once",
        "target": f"{users} followers, {users} welcome replies, nothing doubled",
        "requests_ok": sum(1 for status, _ in results if status == 200),
        "followers": followers.count(),
        "subscribed": followers.filter(subscribed=True).count(),
        "events_recorded": events.count(),
        "welcome_replies": welcomed,
        "passed": followers.count() == users == events.count() == welcomed
        and all(status == 200 for status, _ in results),
    }
    return out


def _signed(side: wx.WeChatSide, body: str) -> tuple[str, str, str]:
    path, body = side.signed_path(body)
    return path, "", body
