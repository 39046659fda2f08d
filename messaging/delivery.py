"""The delivery rules: which outside channel carries what to whom, and when (issue 13).

In-app is always on (the recipient row). On top of it, for each recipient:

* **urgent** messages go through every channel the user has (mini-program subscribe message,
  official-account template message, e-mail), at once, whatever their quiet hours or follows;
* other messages of at least ``MESSAGING_PUSH_MIN_PRIORITY`` go through ONE channel: the first the
  user has in the order of their preference (微信: official account, then mini-program, then
  e-mail; 电子邮件: e-mail first) — unless they unfollowed the message's category (a *skipped* row,
  reason ``unfollowed``), and held until their quiet hours end (queued, reason ``quiet_hours``);
* a user reachable on no channel gets one *skipped* row (reason ``not_bound``), so the delivery
  report counts everyone.

Each decision is a row of the outbox (``MessageDelivery``, ``PushDelivery``, ``DigestDelivery``),
written in the caller's transaction and sent after the commit by ``wechathhu.core.outbox``; the
send functions below make the one outside call of a row. A message read in-app before its push
goes out is not pushed (skipped, reason ``read``), except an urgent first push.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from wechathhu.core import outbox
from wechathhu.core.bulk import db_datetime, insert_ignore_returning
from wechathhu.integrations import wechat

from .models import (
    DeliveryChannel,
    DeliveryKind,
    Message,
    MessageDelivery,
    MessagePriority,
    MessageRecipient,
    PushDelivery,
)
from .personal_text import personal_content
from .preferences import DeliveryPreferences, delivery_preferences_for_users

PRIORITY_RANK = {p: i for i, p in enumerate(MessagePriority.values)}
THING_LIMIT = 20  # WeChat refuses longer ``thing`` values (errcode 47003)
C = DeliveryChannel

# The order in which each preference tries the channels a user has.
CHANNEL_ORDER = {
    "wechat": (C.WECHAT_OA, C.WECHAT, C.EMAIL),
    "email": (C.EMAIL, C.WECHAT_OA, C.WECHAT),
}


# --- Which channels exist, and what each user has on them ------------------------------------------


def official_account_enabled() -> bool:
    return apps.is_installed("official") and bool(getattr(settings, "WECHAT_OFFICIAL_APP_ID", ""))


def channels_enabled() -> tuple[str, ...]:
    """The channels this deployment can send on (configured, and allowed by
    ``MESSAGING_PUSH_CHANNELS``)."""
    configured = {
        C.WECHAT: bool(settings.WECHAT_ENABLED and settings.MESSAGING_WECHAT_TEMPLATE_ID),
        C.WECHAT_OA: official_account_enabled() and bool(settings.MESSAGING_OFFICIAL_TEMPLATE_ID),
        C.EMAIL: True,
    }
    return tuple(c for c in C.values if configured[c] and c in settings.MESSAGING_PUSH_CHANNELS)


@dataclass(frozen=True)
class Addresses:
    """Where one user can be reached outside the portal."""

    openid_mp: str = ""  # the mini-program's openid (bound at login)
    openid_oa: str = ""  # the official account's openid (a bound follower)
    email: str = ""

    def has(self, channel: str) -> bool:
        return bool({C.WECHAT: self.openid_mp, C.WECHAT_OA: self.openid_oa, C.EMAIL: self.email}[channel])


def _official_openids(user_ids: list[int] | QuerySet) -> dict[int, str]:
    if not official_account_enabled():
        return {}
    if not isinstance(user_ids, QuerySet) and not user_ids:
        return {}
    from official.selectors import official_openids_for_users

    return official_openids_for_users(user_ids=user_ids)


def recipient_addresses(*, user_ids: Iterable[int] | QuerySet) -> dict[int, Addresses]:
    """``{user id: Addresses}`` for the active users given (a list or a queryset of ids): one
    query whatever their number, the official account's openid a subquery per user (its follower,
    by the unique ``user``). A queryset is used as a subquery (a fan-out's ten thousand ids never
    travel as a list)."""
    users = User.objects.filter(pk__in=user_ids, is_active=True)
    if official_account_enabled():
        from official.selectors import official_openid_of

        openid_oa = Coalesce(Subquery(official_openid_of(user_id=OuterRef("pk"))), Value(""))
    else:
        openid_oa = Value("")
    rows = users.annotate(openid_oa=openid_oa).values_list("pk", "wechat_openid", "email", "openid_oa")
    return {
        pk: Addresses(openid_mp=openid or "", openid_oa=oa or "", email=(email or "").strip())
        for pk, openid, email, oa in rows
    }


# --- The rule ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One row to write: a channel, and either a time to hold it until or a reason to skip it."""

    channel: str
    hold_until: dt.datetime | None = None
    skip_reason: str = ""


def quiet_hours_end(prefs: DeliveryPreferences, now: dt.datetime) -> dt.datetime:
    """The next moment the user's quiet hours end (aware; Beijing time's next ``quiet_hours_end``)."""
    local = timezone.localtime(now)
    end = local.replace(
        hour=prefs.quiet_hours_end.hour, minute=prefs.quiet_hours_end.minute, second=0, microsecond=0
    )
    return end if end > local else end + dt.timedelta(days=1)


def plan_channels(
    *,
    priority: str,
    category_id: int | None,
    prefs: DeliveryPreferences,
    addresses: Addresses,
    enabled: tuple[str, ...],
    now: dt.datetime,
    respect_quiet_hours: bool = True,
) -> list[Plan]:
    """The rows the delivery rules write for one recipient (see the module's docstring)."""
    if not enabled:
        return []
    order = [c for c in CHANNEL_ORDER.get(prefs.preferred_channel, CHANNEL_ORDER["wechat"]) if c in enabled]
    reachable = [c for c in order if addresses.has(c)]
    if priority == MessagePriority.URGENT:
        return [Plan(c) for c in reachable] or [Plan(order[0], skip_reason="not_bound")]
    minimum = PRIORITY_RANK.get(settings.MESSAGING_PUSH_MIN_PRIORITY, PRIORITY_RANK[MessagePriority.NORMAL])
    if PRIORITY_RANK.get(priority, 0) < minimum:
        return []
    if not prefs.follows(category_id):
        return [Plan(reachable[0] if reachable else order[0], skip_reason="unfollowed")]
    if not reachable:
        return [Plan(order[0], skip_reason="not_bound")]
    if respect_quiet_hours and prefs.is_quiet_at(now):
        return [Plan(reachable[0], hold_until=quiet_hours_end(prefs, now))]
    return [Plan(reachable[0])]


def row_state(plan: Plan, now: dt.datetime) -> dict:
    """The outbox fields of a new row for ``plan``."""
    if plan.skip_reason:
        return {
            "status": outbox.DeliveryStatus.SKIPPED,
            "reason": plan.skip_reason,
            "last_error": SKIP_TEXT[plan.skip_reason],
            "next_attempt_at": None,
        }
    if plan.hold_until is not None:
        return {"reason": "quiet_hours", "next_attempt_at": plan.hold_until}
    return {"next_attempt_at": now}


# The outbox fields of a new row as plain values, for ``wechathhu.core.bulk.insert_ignore``.
ROW_FIELDS = ("created_at", "updated_at", "status", "attempts", "next_attempt_at", "reason", "last_error")


def row_values(plan: Plan, now: dt.datetime, stamp) -> tuple:
    """``row_state(plan)`` as the values of ``ROW_FIELDS`` (``stamp``: ``now`` adapted for the
    database, shared by every row of the batch)."""
    state = row_state(plan, now)
    due = state["next_attempt_at"]
    return (
        stamp,
        stamp,
        state.get("status", outbox.DeliveryStatus.QUEUED),
        0,
        stamp if due is now else db_datetime(due),
        state.get("reason", ""),
        state.get("last_error", ""),
    )


SKIP_TEXT = {
    "not_bound": "未绑定任何推送渠道（小程序、公众号或邮箱）。",
    "unfollowed": "接收者未关注该分类。",
    "read": "接收者已在站内阅读。",
    "withdrawn": "消息已撤回，未发送。",
    "expired": "消息已过期，未发送。",
    "not_following": "接收者未关注公众号。",
}


# --- Messages: the publishing step and the reminder step -------------------------------------------


def _queue_message_deliveries(*, message: Message, user_ids: QuerySet | list[int], kind: str) -> int:
    """Write the rows of ``message`` for these recipients (one transaction with the caller) and
    queue the ones to send after the commit. Returns the rows written."""
    enabled = channels_enabled()
    if not enabled:
        return 0
    now = timezone.now()
    addresses = recipient_addresses(user_ids=user_ids)
    prefs = delivery_preferences_for_users(
        user_ids=addresses.keys(), rows_of=user_ids if isinstance(user_ids, QuerySet) else None
    )
    # Plain tuples through one INSERT IGNORE … RETURNING per batch (wechathhu.core.bulk):
    # bulk_create spent most of a 10 000-recipient publishing step turning model instances into
    # SQL. The rule is worked out once per distinct input (most recipients share one), not per row.
    stamp = db_datetime(now)
    planned: dict[tuple, list[tuple]] = {}
    rows = []
    for pk, address in addresses.items():
        user_prefs = prefs[pk]
        key = (
            user_prefs.preferred_channel,
            user_prefs.follows(message.category_id),
            user_prefs.quiet_hours_end if user_prefs.is_quiet_at(now) else None,
            *(address.has(c) for c in enabled),
        )
        made = planned.get(key)
        if made is None:
            plans = plan_channels(
                priority=message.priority,
                category_id=message.category_id,
                prefs=user_prefs,
                addresses=address,
                enabled=enabled,
                now=now,
            )
            made = planned[key] = [(row_values(plan, now, stamp), plan.channel) for plan in plans]
        rows += [values + (message.pk, pk, channel, kind) for values, channel in made]
    if not rows:
        return 0
    written = insert_ignore_returning(
        MessageDelivery,
        (*ROW_FIELDS, "message", "recipient", "channel", "kind"),
        rows,
        returning=("id", "status", "reason"),
        batch_size=settings.MESSAGING_RECIPIENT_BATCH_SIZE,
    )
    if written is None:  # an engine that returns nothing from an insert (MySQL): read them back
        written = MessageDelivery.objects.filter(message=message, kind=kind).values_list(
            "id", "status", "reason"
        )
    # To send now: queued and not held (quiet hours hold a row with its reason and a later time).
    due = [pk for pk, status, reason in written if status == outbox.DeliveryStatus.QUEUED and not reason]
    outbox.enqueue_on_commit(MessageDelivery, due)
    return len(rows)


def deliveries_queue_for_message(*, message: Message) -> int:
    """The publishing step's deliveries: every recipient of a targeted message, per the rules.

    Must run in the publishing transaction. Global messages are read in-app only (fan-out on
    read writes no per-user rows; a broadcast to every follower is the official account's mass
    send).
    """
    if message.is_global:
        return 0
    recipients = MessageRecipient.objects.filter(message=message).values("recipient_id")
    return _queue_message_deliveries(message=message, user_ids=recipients, kind=DeliveryKind.INITIAL)


def deliveries_queue_reminders(*, message: Message) -> int:
    """The read-aware second push: to the recipients who have not read ``message`` (and only to
    them), per the same rules. Must run in the reminder step's transaction."""
    unread = MessageRecipient.objects.filter(message=message, read_at__isnull=True).values("recipient_id")
    return _queue_message_deliveries(message=message, user_ids=unread, kind=DeliveryKind.REMINDER)


# --- Pushes that are not messages ------------------------------------------------------------------------


def notify_user(
    *,
    user_id: int,
    title: str,
    body: str,
    url: str,
    key: str,
    priority: str = MessagePriority.NORMAL,
    category_id: int | None = None,
) -> list[PushDelivery]:
    """Push something that is not a message (a new conversation message, a comment …) to one user
    through the delivery rules, in the caller's transaction; sent after the commit.

    ``key`` makes it idempotent and coalesces bursts: a second call with the same key (per
    channel) writes nothing and pushes nothing — choose it so that one burst shares one key.
    Returns the rows written (empty when nothing is pushed).
    """
    enabled = channels_enabled()
    addresses = recipient_addresses(user_ids=[user_id]).get(user_id)
    if not enabled or addresses is None:
        return []
    now = timezone.now()
    prefs = delivery_preferences_for_users(user_ids=[user_id])[user_id]
    plans = plan_channels(
        priority=priority, category_id=category_id, prefs=prefs, addresses=addresses, enabled=enabled, now=now
    )
    rows = [
        PushDelivery(
            recipient_id=user_id,
            channel=plan.channel,
            title=title[:200],
            body=body[:1000],
            url=url[:500],
            idempotency_key=f"push:{key}:{plan.channel}"[:191],
            **row_state(plan, now),
        )
        for plan in plans
    ]
    keys = [row.idempotency_key for row in rows]
    existing = set(
        PushDelivery.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    rows = [row for row in rows if row.idempotency_key not in existing]
    PushDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    written = list(PushDelivery.objects.filter(idempotency_key__in=[r.idempotency_key for r in rows]))
    outbox.enqueue_on_commit(
        PushDelivery,
        [r.pk for r in written if r.status == outbox.DeliveryStatus.QUEUED and r.next_attempt_at <= now],
    )
    return written


# --- Sending one row -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """What a push says, in the shapes each channel needs."""

    title: str
    text: str
    path: str  # on the site, e.g. /m/messages/12/
    mini_program_page: str = ""
    type_label: str = "通知"
    priority_label: str = "普通"
    sender: str = "系统"
    when: dt.datetime | None = None

    def values(self) -> dict[str, str]:
        """The values a template's keys are filled from (``MESSAGING_*_TEMPLATE_FIELDS``)."""
        when = timezone.localtime(self.when or timezone.now()).strftime("%Y-%m-%d %H:%M")
        return {
            "title": self.title,
            "content": self.text or self.title,
            "type": self.type_label,
            "priority": self.priority_label,
            "sender": self.sender,
            "published_at": when,
        }


def _template_data(fields: dict[str, str], content: Content) -> dict[str, str]:
    values = content.values()
    data = {}
    for key, source in fields.items():
        value = values.get(source, "")
        if key.startswith("thing") and len(value) > THING_LIMIT:
            value = value[: THING_LIMIT - 1] + "…"
        data[key] = value
    return data


def send_to_user(*, channel: str, user: User, content: Content) -> None:
    """The one outside call that pushes ``content`` to ``user`` over ``channel`` (or a Skip)."""
    if channel == C.WECHAT:
        if not user.wechat_openid:
            raise outbox.Skip("接收者已解除微信绑定。", reason="not_bound")
        wechat.send_subscribe_message(
            openid=user.wechat_openid,
            template_id=settings.MESSAGING_WECHAT_TEMPLATE_ID,
            data=_template_data(settings.MESSAGING_WECHAT_TEMPLATE_FIELDS, content),
            page=content.mini_program_page or None,
        )
    elif channel == C.WECHAT_OA:
        openid = _official_openids([user.pk]).get(user.pk)
        if not openid:
            raise outbox.Skip(SKIP_TEXT["not_following"], reason="not_following")
        from wechathhu.integrations.official import send_template_message

        send_template_message(
            openid=openid,
            template_id=settings.MESSAGING_OFFICIAL_TEMPLATE_ID,
            data=_template_data(settings.MESSAGING_OFFICIAL_TEMPLATE_FIELDS, content),
            url=settings.SITE_URL + content.path,
        )
    elif channel == C.EMAIL:
        if not user.email:
            raise outbox.Skip("接收者没有电子邮箱。", reason="not_bound")
        body = f"{content.text or content.title}\n\n查看详情：{settings.SITE_URL}{content.path}\n\n此邮件由系统自动发送，请勿回复。"
        EmailMessage(subject=f"【{content.type_label}】{content.title}", body=body, to=[user.email]).send()
    else:  # pragma: no cover - the channel choices are closed
        raise outbox.Permanent(f"未知的渠道：{channel}", reason="error")


def message_content(message: Message) -> Content:
    return Content(
        title=message.title,
        text=message.content,
        path=settings.MESSAGING_PAGE_PATH.format(id=message.pk),
        mini_program_page=settings.MESSAGING_WECHAT_PAGE.format(id=message.pk),
        type_label=message.get_type_display(),
        priority_label=message.get_priority_display(),
        sender=(message.sender.full_name or message.sender.username) if message.sender else "系统",
        when=message.published_at,
    )


def delivery_send(delivery: MessageDelivery) -> None:
    """The outbox's send of one message delivery."""
    message = delivery.message
    if not message.is_active:
        raise outbox.Skip(SKIP_TEXT["withdrawn"], reason="withdrawn")
    if message.is_expired:
        raise outbox.Skip(SKIP_TEXT["expired"], reason="expired")
    urgent_first = message.priority == MessagePriority.URGENT and delivery.kind == DeliveryKind.INITIAL
    if not urgent_first and (
        MessageRecipient.objects.filter(
            message_id=message.pk, recipient_id=delivery.recipient_id, read_at__isnull=False
        ).exists()
    ):
        raise outbox.Skip(SKIP_TEXT["read"], reason="read")
    content = personal_content(
        message_content(message), message_id=message.pk, recipient_id=delivery.recipient_id
    )
    send_to_user(channel=delivery.channel, user=delivery.recipient, content=content)


def push_send(push: PushDelivery) -> None:
    """The outbox's send of one push that is not a message."""
    send_to_user(
        channel=push.channel,
        user=push.recipient,
        content=Content(title=push.title, text=push.body, path=push.url or "/m/", when=push.created_at),
    )
