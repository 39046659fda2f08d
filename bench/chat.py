"""Conversations in the bench (issue 14): the requests of the chat scenarios, and 1 000 messages
sent at once into one group through gunicorn's workers, checked afterwards (each stored once,
``seq`` 1..1 000 without gaps or doubles, one order for every member)."""

from __future__ import annotations

import json
import random
import urllib.request
import uuid
from collections import Counter

from django.db import close_old_connections
from django.utils import timezone

from .burst import figures, run_once
from .data import CHAT_USER

BURST_GROUP = "[压测] 千条并发消息群"


def _auth(key: str) -> str:
    return f"Bearer {key}"


def chat_user_key(tokens: list[tuple[int, str]]) -> str | None:
    """The token of ``CHAT_USER`` (the user with 500 conversations)."""
    from accounts.models import User

    pk = User.objects.filter(username=CHAT_USER).values_list("pk", flat=True).first()
    return dict(tokens).get(pk)


def send_requests(tokens: list[tuple[int, str]], *, per_user: int = 5) -> list:
    """``per_user`` text messages from each bench user into one of their own conversations, each
    with its own ``client_id`` (never repeated within a run: a repeat would be answered from the
    idempotency check, not sent), consecutive requests from different users."""
    from conversations.models import ConversationMember

    keys = dict(tokens)
    conversation_of: dict[int, int] = {}
    for user_id, conversation_id in (
        ConversationMember.objects.filter(user_id__in=keys)
        .order_by("user_id", "conversation_id")
        .values_list("user_id", "conversation_id")
    ):
        conversation_of.setdefault(user_id, conversation_id)
    run = uuid.uuid4().hex[:12]
    rng = random.Random(13)
    requests = []
    for round_ in range(per_user):
        for user_id, conversation_id in conversation_of.items():
            body = {
                "message_type": "text",
                "message": rng.choice(["收到", "好的，马上到。", "请问下午的会议改时间了吗？", "谢谢老师！"]),
                "client_id": f"bench-{run}-{user_id}-{round_}",
            }
            requests.append(
                (
                    "POST",
                    f"/api/v1/conversations/{conversation_id}/messages",
                    _auth(keys[user_id]),
                    json.dumps(body, ensure_ascii=False),
                )
            )
    return requests


def list_requests(tokens: list[tuple[int, str]]) -> list:
    """The conversation list of ``CHAT_USER`` (500 conversations), every page of 20 in turn: the
    first page is what a phone asks for, the deep ones show that a page costs the same anywhere."""
    key = chat_user_key(tokens)
    if key is None:
        return []
    from conversations.models import ConversationMember

    pages = max(1, -(-ConversationMember.objects.filter(user__username=CHAT_USER).count() // 20))
    return [("GET", f"/api/v1/conversations?page={page}", _auth(key), "") for page in range(1, pages + 1)]


def _get_json(base_url: str, path: str, key: str) -> dict:
    request = urllib.request.Request(base_url + path, headers={"Authorization": _auth(key)})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def _history(base_url: str, conversation_id: int, key: str) -> list[tuple[int, int]]:
    """``(seq, message id)`` of the whole history as a member reads it over HTTP (``after`` cursor)."""
    seen: list[tuple[int, int]] = []
    after = 0
    while True:
        page = _get_json(
            base_url, f"/api/v1/conversations/{conversation_id}/messages?after={after}&limit=100", key
        )["data"]
        rows = sorted((m["seq"], m["id"]) for m in page["messages"])
        seen += rows
        if not page["has_more"] or not rows:
            return seen
        after = rows[-1][0]


def group_burst(
    base_url: str,
    tokens: list[tuple[int, str]],
    *,
    messages: int = 1000,
    members: int = 50,
    resend_share: float = 0.1,
    concurrency: int = 64,
    readers: int = 3,
) -> dict:
    """``messages`` text messages sent at once into one group of ``members`` bench users (round
    robin over the members, each with its own ``client_id``), from ``concurrency`` clients through
    gunicorn's workers; ``resend_share`` of them sent a second time with the same ``client_id``
    (a phone that retried) in the same burst. Afterwards the database must hold each message once,
    ``seq`` 1..``messages`` without a gap or a double, every member's unread counter exact, and
    ``readers`` members reading the history over HTTP must see one and the same order. The group
    and its messages are removed afterwards."""
    from conversations.models import (
        Conversation,
        ConversationKind,
        ConversationMember,
        ConversationMessage,
        MemberRole,
    )

    Conversation.objects.filter(name=BURST_GROUP).delete()
    people = tokens[: max(2, min(members, len(tokens)))]
    now = timezone.now()
    group = Conversation.objects.create(
        kind=ConversationKind.GROUP, name=BURST_GROUP, created_by_id=people[0][0], member_count=len(people)
    )
    ConversationMember.objects.bulk_create(
        [
            ConversationMember(
                conversation=group,
                user_id=uid,
                role=MemberRole.OWNER if i == 0 else MemberRole.MEMBER,
                last_activity_at=now,
            )
            for i, (uid, _) in enumerate(people)
        ]
    )
    run = uuid.uuid4().hex[:12]
    path = f"/api/v1/conversations/{group.pk}/messages"
    sends = []
    for n in range(messages):
        uid, key = people[n % len(people)]
        body = json.dumps(
            {"message_type": "text", "message": f"并发消息 {n}", "client_id": f"burst-{run}-{n}"},
            ensure_ascii=False,
        )
        sends.append((uid, key, body))
    rng = random.Random(17)
    resent = rng.sample(range(messages), int(messages * resend_share))
    order = list(range(messages)) + resent
    rng.shuffle(order)  # a resend may even arrive before its first copy
    jobs = [lambda s=sends[i]: (path, _auth(s[1]), s[2]) for i in order]
    close_old_connections()
    results, took = run_once(base_url, jobs, concurrency=concurrency)
    out = figures(results, took)

    stored = list(
        ConversationMessage.objects.filter(conversation=group).values_list("seq", "client_id", "sender_id")
    )
    seqs = sorted(seq for seq, _, _ in stored)
    client_ids = Counter(client_id for _, client_id, _ in stored)
    group.refresh_from_db()
    # A member's badge: the others' messages after the member's own last one (a send reads the
    # conversation up to itself), whatever order the sends committed in.
    last_own: dict[int, int] = {}
    for seq, _, sender in stored:
        last_own[sender] = max(seq, last_own.get(sender, 0))
    counters = dict(
        ConversationMember.objects.filter(conversation=group).values_list("user_id", "unread_count")
    )
    wrong_counters = sum(
        1
        for uid, count in counters.items()
        if count != sum(1 for seq, _, sender in stored if sender != uid and seq > last_own.get(uid, 0))
    )
    orders = [_history(base_url, group.pk, key) for _, key in people[:readers]]
    one_order = all(order == orders[0] for order in orders) and [s for s, _ in orders[0]] == seqs
    statuses = Counter(status for status, _ in results)
    check = {
        "check": f"{messages:,} messages at once into one group of {len(people)} "
        f"(+{len(resent)} resends, {concurrency} clients)",
        "target": "each stored once, seq 1..N without gaps or doubles, one order for all",
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "stored": len(stored),
        "distinct_client_ids": len(client_ids),
        "doubled": sum(1 for n in client_ids.values() if n > 1),
        "seq_gaps_or_doubles": len(set(range(1, messages + 1)) ^ set(seqs)) + (len(seqs) - len(set(seqs))),
        "last_seq": group.last_seq,
        "wrong_unread_counters": wrong_counters,
        "same_order_for_readers": f"{sum(order == orders[0] for order in orders)}/{len(orders)}",
        "seconds": round(took, 2),
    }
    check["passed"] = (
        len(stored) == messages == len(client_ids) == group.last_seq
        and check["doubled"] == 0
        and check["seq_gaps_or_doubles"] == 0
        and wrong_counters == 0
        and one_order
        and set(statuses) <= {200, 201}
        and statuses.get(201) == messages
    )
    group.delete()
    out["check"] = check
    return out
