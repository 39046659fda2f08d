"""What a verified webhook delivery does: once per message, whatever worker it reaches.

The delivery's row (``InboundMessage``, unique ``dedup_key``) is the first write of one
transaction that also holds every effect and the passive reply. A retry of WeChat's (it sends a
message again when no answer came within 5 s) fails on the unique key — waiting, on MariaDB, for
the first delivery's transaction to end — and is answered with the reply stored by the first, so
the follower sees one answer and the portal did everything once.

A text the robot answers without writing anything (``_answer_at_once``: a command, a topic's
latest posts, a keyword rule) is decided first and its row inserted whole, with the follower's
window in the same commit: the fewest round trips for the robot's latency target. Every
transaction takes the follower's row lock before its INSERT, so deliveries of one follower queue
instead of deadlocking.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from wechathhu.core.tasks import enqueue
from wechathhu.integrations import official

from ..models import Follower, Handling, InboundMessage, QrScene
from . import followers, inbox, mass
from .robot import Answer, bind_link, robot_answer

logger = logging.getLogger(__name__)

WELCOME = "欢迎关注！发送「帮助」查看可用指令。"
INBOX_ACK = "您的留言已转给工作人员，我们会尽快回复。"
LOCATION_ACK = "已收到您的位置。"
CLICK_UNKNOWN = "该菜单暂时没有内容。发送「帮助」查看可用指令。"


def _welcome(follower: Follower, qr: QrScene | None) -> str:
    lines = [WELCOME]
    if follower.user_id:
        lines.insert(0, f"{follower.user.full_name}，欢迎回来。")
    elif qr is not None and qr.school_class_id:
        lines.append(
            f"您扫描的是“{qr.school_class}”的班级二维码，请先验证身份：{bind_link('点此绑定学生账号')}"
        )
    else:
        lines.append(f"绑定校园账号后可接收通知、查询消息和预约：{bind_link()}")
    return "\n".join(lines)


def _render(inbound: official.Inbound, answer: Answer | str | None) -> str:
    if not answer:
        return ""
    if isinstance(answer, str):
        return official.text_reply(inbound, answer).render()
    if answer.article:
        return official.article_reply(inbound, **answer.article).render()
    if answer.image_media_id:
        return official.image_reply(inbound, answer.image_media_id).render()
    if answer.text:
        return official.text_reply(inbound, answer.text).render()
    return ""


def _handle(
    inbound: official.Inbound, follower: Follower | None, row: InboundMessage
) -> tuple[str, Answer | str | None]:
    """``(handling, answer)`` of one delivery; the effects are written on the way."""
    at = inbound.created
    event = inbound.event
    if event == "masssendjobfinish":
        mass.mass_send_record_finish(msg_id=inbound.msg_id, status=inbound.status, counts=inbound.counts)
        return Handling.REPORT, None
    if event == "templatesendjobfinish":
        return Handling.REPORT, None
    if event in ("subscribe", "subscribe_scan"):
        qr = followers.follower_subscribe(follower=follower, at=at, scene=inbound.event_key)
        return Handling.FOLLOW, _welcome(follower, qr)
    if event == "scan":
        qr = followers.follower_scan(follower=follower, at=at, scene=inbound.event_key)
        if qr is not None and qr.school_class_id and not follower.user_id:
            return Handling.FOLLOW, _welcome(follower, qr)
        return Handling.FOLLOW, None
    if event == "unsubscribe":
        followers.follower_unsubscribe(follower=follower, at=at)
        return Handling.FOLLOW, None
    if event in ("click", "scancode_push", "scancode_waitmsg"):
        followers.follower_touch(follower=follower, at=at, message=False)
        answer = robot_answer(follower=follower, text=inbound.event_key)
        return (answer.handling, answer) if answer else (Handling.NONE, CLICK_UNKNOWN)
    if inbound.kind == "event":
        return Handling.NONE, None
    followers.follower_touch(follower=follower, at=at, message=True)
    if inbound.kind == "location":
        followers.location_record(
            follower=follower,
            at=at,
            latitude=inbound.latitude,
            longitude=inbound.longitude,
            precision=inbound.precision,
            label=inbound.label,
        )
        return Handling.LOCATION, LOCATION_ACK
    if inbound.kind in ("text", "voice") and inbound.content:
        answer = robot_answer(follower=follower, text=inbound.content)
        if answer is not None:
            return answer.handling, answer
    opened = inbox.thread_receive(follower=follower, at=timezone.now())
    return Handling.INBOX, INBOX_ACK if opened else None


def _answer_at_once(inbound: official.Inbound, follower: Follower, answer: Answer) -> str:
    """A text the robot answers without writing anything (a command, a topic's latest posts, a
    keyword rule): the delivery's row is inserted whole (no second UPDATE of it), in one statement
    that is also the de-duplication (a retry fails on the unique key and gets the stored reply),
    together with the follower's window (``follower_touch``) in one commit. When the window needs no
    write (a second message in the same second) the INSERT is its own transaction: a transaction
    costs three round trips (autocommit off, commit, autocommit on) and nothing else."""
    at = inbound.created
    reply = _render(inbound, answer)
    fields = {
        "dedup_key": inbound.dedup_key,
        "follower": follower,
        "msg_id": inbound.msg_id,
        "kind": inbound.kind[:32],
        "content": inbound.content,
        "media_id": inbound.media_id,
        "sent_at": inbound.created,
        "handling": answer.handling,
        "reply": reply,
        "followup": answer.followup,
    }
    try:
        if connection.in_atomic_block or followers.follower_touch_needed(
            follower=follower, at=at, message=True
        ):
            with transaction.atomic():  # (within a caller's transaction, a test's: a savepoint)
                followers.follower_touch(follower=follower, at=at, message=True)
                row = InboundMessage.objects.create(**fields)
        else:  # the statement is its own transaction
            row = InboundMessage.objects.create(**fields)
    except IntegrityError:
        return _stored_reply(inbound.dedup_key)
    if row.followup:
        row_id = row.pk
        transaction.on_commit(lambda: robot_followup_enqueue(inbound_id=row_id))
    return reply


def _stored_reply(key: str) -> str:
    stored = InboundMessage.objects.filter(dedup_key=key).values_list("reply", flat=True).first()
    if stored is None:
        raise IntegrityError(f"{key}: refused as a duplicate but not stored")
    logger.info("WeChat delivered %s again: answered as the first time", key)
    return stored


DEADLOCK_ATTEMPTS = 3


def _is_deadlock(exc: OperationalError) -> bool:
    return bool(exc.args) and exc.args[0] == 1213  # MariaDB: "try restarting transaction"


def webhook_receive(*, inbound: official.Inbound) -> str:
    """Record and handle one verified delivery; returns the passive reply's XML (plain text,
    encrypted by the caller in safe mode), empty when there is nothing to say.

    A deadlock MariaDB breaks (deliveries of one follower, or WeChat's copies of one event,
    taking the follower's and the delivery's locks at once) rolled the delivery back whole, so it
    is run again, as MariaDB advises, instead of answering WeChat 503."""
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            return _receive(inbound)
        except OperationalError as exc:
            if not _is_deadlock(exc) or attempt == DEADLOCK_ATTEMPTS or connection.in_atomic_block:
                raise
            logger.info("Webhook delivery %s deadlocked (attempt %s): run again", inbound.dedup_key, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _receive(inbound: official.Inbound) -> str:
    key = inbound.dedup_key
    follower = None
    if key is not None and inbound.kind in ("text", "voice") and inbound.content:
        follower = followers.follower_get_or_create(openid=inbound.openid)
        answer = robot_answer(follower=follower, text=inbound.content, writes=False)
        if isinstance(answer, Answer):
            return _answer_at_once(inbound, follower, answer)
        # A #topic# post, or nothing the robot can say (the inbox): written in one transaction.
    if key is None:  # a LOCATION report: newest position wins, a repeat changes nothing
        with transaction.atomic():
            follower = followers.follower_get_or_create(openid=inbound.openid)
            followers.location_record(
                follower=follower,
                at=inbound.created,
                latitude=inbound.latitude,
                longitude=inbound.longitude,
                precision=inbound.precision,
            )
        return ""
    try:
        with transaction.atomic():
            if follower is not None:
                # A text read before the transaction: its follower's lock before the INSERT.
                follower = followers.follower_lock(follower=follower)
            elif not inbound.is_system:
                # An event: the dedup INSERT comes first, so that WeChat's copies of it fail there
                # before any of them asks for the follower's lock. (Locking first, the copies'
                # failed INSERTs of a new follower hold shared locks on its row and each waits for
                # the others: tried, and the subscribe race caught it; a locking read of an
                # unknown openid takes a gap lock the new followers' INSERTs deadlock on.)
                follower = followers.follower_get_or_create(openid=inbound.openid)
            row = InboundMessage.objects.create(
                dedup_key=key,
                follower=follower,
                msg_id=inbound.msg_id,
                kind=inbound.kind[:32],
                event=inbound.event[:64],
                event_key=(inbound.status if inbound.is_system else inbound.event_key)[:1024],
                content=json.dumps(inbound.counts) if inbound.counts else (inbound.content or inbound.title),
                media_id=inbound.media_id,
                url=inbound.url or inbound.pic_url,
                sent_at=inbound.created,
            )
            handling, answer = _handle(inbound, follower, row)
            row.handling = handling
            row.reply = _render(inbound, answer)
            row.followup = answer.followup if isinstance(answer, Answer) else ""
            row.save(update_fields=["handling", "reply", "followup"])
            if row.followup:
                row_id = row.pk
                transaction.on_commit(lambda: robot_followup_enqueue(inbound_id=row_id))
            return row.reply
    except IntegrityError:
        return _stored_reply(key)


FOLLOWUP_TASK = "official.robot_followup"


def robot_followup_enqueue(*, inbound_id: int) -> bool:
    """Queue the slow part of a command (by the task's name: tasks import services, never the
    other way). A broker outage is logged, never raised: ``robot_followups_requeue`` (periodic)
    finds the follow-ups still undone."""
    return enqueue(FOLLOWUP_TASK, inbound_id=inbound_id)


def robot_followups_requeue(*, now=None) -> int:
    """Queue again the follow-ups not done a minute after their message (broker was down, a
    worker died); a day later they are given up (the follower has long asked again)."""
    now = now or timezone.now()
    due = InboundMessage.objects.filter(
        followup_done_at__isnull=True,
        received_at__lt=now - timedelta(minutes=1),
        received_at__gt=now - timedelta(days=1),
    ).exclude(followup="")
    queued = 0
    for inbound_id in due.values_list("pk", flat=True)[:500]:
        if not robot_followup_enqueue(inbound_id=inbound_id):
            break
        queued += 1
    return queued


def events_purge(*, now=None) -> int:
    """Delete received events older than WECHAT_OFFICIAL_EVENT_RETENTION_DAYS (WeChat retries
    within seconds, so their de-duplication rows are long useless); messages stay with their
    inbox thread, and mass-send reports with their send."""
    from django.conf import settings

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WECHAT_OFFICIAL_EVENT_RETENTION_DAYS)
    old = InboundMessage.objects.filter(kind="event", received_at__lt=cutoff).exclude(
        event="masssendjobfinish"
    )
    deleted = 0
    while True:  # in batches: a large DELETE would hold its locks for long
        ids = list(old.values_list("pk", flat=True)[:5000])
        if not ids:
            return deleted
        deleted += InboundMessage.objects.filter(pk__in=ids).delete()[0]
