"""The customer-service inbox (客服): follower threads, staff replies through the outbox.

A reply is a ``ServiceMessage`` row (an outbox delivery) written in the caller's transaction and
sent after the commit by the shared outbox. WeChat delivers customer-service messages only
within 48 hours of the follower's last message (errcode 45015 after that); staff replies are
refused up front outside that window, where the inbox offers a template message instead.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from wechathhu.core import outbox
from wechathhu.core.errors import ApplicationError

from ..errors import OfficialErrorCode as E
from ..models import Follower, InboundMessage, InboxThread, ServiceKind, ServiceMessage, ThreadStatus
from ..selectors import follower_window

WINDOW_CLOSED = "该粉丝超过48小时未与公众号互动，客服消息无法送达，请改用模板消息。"
NO_TEMPLATE = "未配置回复用的模板消息（WECHAT_OFFICIAL_REPLY_TEMPLATE_ID）。"
NOT_FOLLOWING = "该用户已取消关注公众号，消息无法送达。"

# What each kind of reply needs (the admin's form asks for exactly these).
REQUIRED = {
    ServiceKind.TEXT: ("content",),
    ServiceKind.IMAGE: ("media_id",),
    ServiceKind.VOICE: ("media_id",),
    ServiceKind.VIDEO: ("media_id",),
    ServiceKind.MUSIC: ("url", "thumb_media_id"),
    ServiceKind.NEWS: ("title", "url"),
    ServiceKind.TEMPLATE: ("template_id", "data"),
}
LIMITS = {"content": 2000, "title": 64, "description": 255, "url": 1000, "hq_url": 1000, "image": 1000}


def thread_receive(*, follower: Follower, at: datetime) -> bool:
    """A message the robot could not answer: into the follower's thread (opened if closed or
    new), one more unread. Returns whether the thread was (re)opened by it."""
    reopened = InboxThread.objects.filter(follower=follower, status=ThreadStatus.CLOSED).update(
        status=ThreadStatus.OPEN, unread=1, last_incoming_at=at, closed_at=None, updated_at=at
    )
    if reopened:
        return True
    if InboxThread.objects.filter(follower=follower).update(
        unread=F("unread") + 1, last_incoming_at=at, updated_at=at
    ):
        return False
    try:
        with transaction.atomic():
            InboxThread.objects.create(follower=follower, unread=1, last_incoming_at=at)
    except IntegrityError:  # the follower's other message created it a moment ago
        InboxThread.objects.filter(follower=follower).update(unread=F("unread") + 1, last_incoming_at=at)
        return False
    return True


def thread_mark_read(*, thread: InboxThread) -> None:
    if thread.unread:
        InboxThread.objects.filter(pk=thread.pk).update(unread=0)
        thread.unread = 0


@transaction.atomic
def thread_assign(*, thread_ids, assignee) -> int:
    if assignee is not None and not assignee.is_staff:
        raise ApplicationError("只能指派给后台工作人员。", code=E.THREAD_STATE)
    return InboxThread.objects.filter(pk__in=list(thread_ids)).update(
        assignee=assignee, updated_at=timezone.now()
    )


@transaction.atomic
def thread_set_status(*, thread_ids, status: str) -> int:
    now = timezone.now()
    fields = {
        "status": status,
        "updated_at": now,
        "closed_at": now if status == ThreadStatus.CLOSED else None,
    }
    if status == ThreadStatus.CLOSED:
        fields["unread"] = 0
    return InboxThread.objects.filter(pk__in=list(thread_ids)).exclude(status=status).update(**fields)


def _clean_payload(kind: str, payload: dict) -> dict:
    if kind not in REQUIRED:
        raise ApplicationError("不支持的消息类型。", field="kind", code=E.INVALID_REPLY)
    cleaned = {}
    for name, value in payload.items():
        if value in (None, ""):
            continue
        if isinstance(value, str):
            value = value.strip()
            if len(value) > LIMITS.get(name, 255):
                raise ApplicationError(
                    f"“{name}”过长（最多 {LIMITS.get(name, 255)} 字）。", field=name, code=E.INVALID_REPLY
                )
        cleaned[name] = value
    for name in REQUIRED[kind]:
        if not cleaned.get(name):
            raise ApplicationError("请填写此项。", field=name, code=E.INVALID_REPLY)
    return cleaned


def service_message_queue(
    *,
    follower: Follower,
    kind: str,
    payload: dict,
    by=None,
    in_reply_to: InboundMessage | None = None,
    now: datetime | None = None,
) -> ServiceMessage:
    """Queue one customer-service message (or, ``kind="template"``, a template message) to
    ``follower`` in the caller's transaction; the outbox sends it after the commit.

    Staff replies (``by`` set) are refused outside the 48-hour window and to a follower who left;
    the robot's follow-ups answer a message just received. A reply to a message (``in_reply_to``)
    is written once: repeating the call returns the row already queued.
    """
    now = now or timezone.now()
    payload = _clean_payload(kind, payload)
    if by is not None:
        if not follower.subscribed:
            raise ApplicationError(NOT_FOLLOWING, code=E.WINDOW_CLOSED)
        if kind != ServiceKind.TEMPLATE and not follower_window(follower=follower, now=now).is_open:
            raise ApplicationError(WINDOW_CLOSED, code=E.WINDOW_CLOSED)
    key = f"official-reply:{in_reply_to.pk}" if in_reply_to is not None and by is None else None
    if key is not None:
        existing = ServiceMessage.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    message = ServiceMessage(
        follower=follower,
        kind=kind,
        payload=payload,
        sent_by=by,
        in_reply_to=in_reply_to,
        idempotency_key=key,
    )
    message.full_clean()
    message.save()
    if by is not None:
        InboxThread.objects.filter(follower=follower).update(last_reply_at=now, unread=0)
    outbox.enqueue_on_commit(ServiceMessage, [message.pk])
    return message


@transaction.atomic
def inbox_reply(*, thread: InboxThread, kind: str, payload: dict, by) -> ServiceMessage:
    """A staff reply from the inbox (text, image, voice, video, music or news)."""
    if kind == ServiceKind.TEMPLATE:
        raise ApplicationError("模板消息请使用“以模板消息发送”。", field="kind", code=E.INVALID_REPLY)
    follower = Follower.objects.get(pk=thread.follower_id)
    return service_message_queue(follower=follower, kind=kind, payload=payload, by=by)


def template_configured() -> bool:
    return bool(settings.WECHAT_OFFICIAL_REPLY_TEMPLATE_ID)


def _template_value(source: str, *, title: str, content: str, sender, now: datetime) -> str:
    if source == "title":
        return title[:20]
    if source == "content":
        return content[:20]
    if source == "time":
        return timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    if source == "sender":
        return (getattr(sender, "full_name", "") or "工作人员")[:20]
    return ""


@transaction.atomic
def inbox_reply_template(
    *, thread: InboxThread, title: str, content: str, by, url: str = ""
) -> ServiceMessage:
    """Outside the 48-hour window: the reply as the configured template message."""
    template_id = settings.WECHAT_OFFICIAL_REPLY_TEMPLATE_ID
    if not template_id:
        raise ApplicationError(NO_TEMPLATE, code=E.NO_TEMPLATE)
    if not title.strip() or not content.strip():
        raise ApplicationError("请填写标题和内容。", code=E.INVALID_REPLY)
    now = timezone.now()
    data = {
        key: _template_value(source, title=title.strip(), content=content.strip(), sender=by, now=now)
        for key, source in settings.WECHAT_OFFICIAL_REPLY_TEMPLATE_FIELDS.items()
    }
    payload = {"template_id": template_id, "data": data, "url": url}
    follower = Follower.objects.get(pk=thread.follower_id)
    return service_message_queue(
        follower=follower, kind=ServiceKind.TEMPLATE, payload=payload, by=by, now=now
    )
