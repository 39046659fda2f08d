"""The outbox: one mechanism for everything the portal sends to the outside world.

Every e-mail, WeChat subscribe / template / customer-service message, mass send or digest is a
row of a concrete subclass of :class:`OutboxDelivery`, written in the same transaction as the
change that caused it (the transactional-outbox pattern). Sending happens after the commit:

* :func:`enqueue_on_commit` is the fast path — it queues ``outbox.deliver`` tasks once the
  transaction commits. A broker outage is logged, never raised: the row is the record.
* :func:`sweep` (``outbox.sweep``, every minute) is the safety net — it queues again every row that
  is due (queued and never picked up, a retry whose time has come, a send whose worker died) and
  gives up on rows older than ``OUTBOX_GIVE_UP_HOURS``.
* :func:`deliver` sends rows **one at a time**: a conditional ``UPDATE`` claims a row (queued →
  sending, with a lease), the subclass makes its one outside call, a second ``UPDATE`` records
  the outcome. No lock is held during the call, a crash re-sends at most the call in flight
  (its lease expires and the sweep picks it up), and a slow call delays only itself.

Outcomes: a transient error (WeChat -1 / 45009 / an expired token, HTTP 5xx, a timeout, SMTP
4xx) is retried with exponential backoff and jitter up to ``OUTBOX_MAX_ATTEMPTS``; a permanent
one fails the row at once with its code and reason; :class:`Skip` ends a row that has nothing to
send (unbound, withdrawn …). Every final failure stays on the row; staff retry it with
:func:`retry`. Sends are paced per channel by :func:`rate_limit_wait` across every worker.
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import ClassVar

import requests
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel
from wechathhu.core.tasks import enqueue, enqueue_many
from wechathhu.core.tasks import enqueue_on_commit as enqueue_task_on_commit

logger = logging.getLogger(__name__)

DELIVER_TASK = "outbox.deliver"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("已跳过")


PENDING_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
IN_FLIGHT = "in_flight"  # the reason of a row whose outside call has started (at-most-once models)
INTERRUPTED = "interrupted"


class OutboxDelivery(TimestampedModel):
    """One thing to send to one recipient over one channel. Subclasses add who and what.

    A subclass sets ``outbox_channel`` (the rate-limit bucket: ``email``, ``wechat_mp``,
    ``wechat_oa`` …; or overrides :meth:`get_outbox_channel`) and implements
    :meth:`outbox_send`, which makes the one outside call (and may return more of the row's
    fields to store with the "sent" outcome) and raises :class:`Transient`,
    :class:`Permanent` or :class:`Skip` — or lets the integration's own errors propagate, which
    :func:`classify` sorts. ``outbox_select_related`` names what the send reads.
    """

    status = models.CharField(
        _("状态"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(
        _("下次尝试"), null=True, blank=True, default=timezone.now, help_text=_("为空表示已结束")
    )
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    error_code = models.IntegerField(_("错误码"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=32, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=1000, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=191, null=True, blank=True, unique=True)

    outbox_channel: ClassVar[str] = ""
    outbox_select_related: ClassVar[tuple[str, ...]] = ()
    # At most once: a row whose worker died DURING its outside call (the call may or may not have
    # reached the other side, and WeChat has no idempotency key) is failed as "interrupted", never
    # sent again by itself; staff may retry it. Rows whose worker died before the call are sent
    # again either way. False (the default): such a row is sent again (at least once).
    outbox_at_most_once: ClassVar[bool] = False
    # Rows per ``outbox.deliver`` task (None: ``OUTBOX_TASK_BATCH``). Queueing a task is a broker
    # round trip; a model whose rows come thousands at a time (the digest's busiest minute) sends
    # them in bigger tasks. The pace stays the channel's rate either way (``rate_limit_wait``).
    outbox_task_batch: ClassVar[int | None] = None

    class Meta:
        abstract = True
        indexes = [
            # The sweep: pending rows by the time they are due.
            models.Index(fields=["status", "next_attempt_at"], name="%(app_label)s_%(class)s_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="%(app_label)s_%(class)s_sent_has_time",
            ),
        ]

    def get_outbox_channel(self) -> str:
        return self.outbox_channel

    def outbox_send(self) -> dict | None:  # pragma: no cover - every subclass implements it
        """Make the one outside call; may return more of this row's fields to store with "sent"."""
        raise NotImplementedError

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES


# --- Outcomes -------------------------------------------------------------------------------------


class Outcome(Exception):
    def __init__(self, message: str = "", *, code: int | None = None, reason: str = ""):
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.reason = reason


class Transient(Outcome):
    """Worth trying again later (the outside service is busy, down, slow or rate-limiting us)."""


class Permanent(Outcome):
    """Trying again would fail the same way (no consent, unfollowed, invalid address …)."""


class Skip(Outcome):
    """Nothing to send (not bound, withdrawn, quiet hours …): ``reason`` says why."""


# WeChat codes worth another try: -1 system busy, 45009 rate limit, expired/invalid access token
# (the client has already refreshed the token once by then), 45011 API frequency limit.
WECHAT_TRANSIENT_CODES = frozenset({-1, 40001, 40014, 42001, 45009, 45011})
# The reason a WeChat code stands for, as the delivery report groups failures.
WECHAT_REASONS = {
    -1: "busy",
    40001: "token",
    40014: "token",
    42001: "token",
    45009: "rate_limited",
    45011: "rate_limited",
    43101: "no_consent",
    43004: "not_following",
    43019: "blocked",
    40003: "invalid_openid",
    47003: "invalid_data",
    45015: "window_closed",
    45047: "window_closed",
}


def classify(exc: BaseException) -> Outcome | None:
    """The outcome an integration error stands for, or None for an unexpected error (a bug)."""
    from wechathhu.integrations.wechat import WeChatError, WeChatUnavailable

    if isinstance(exc, Outcome):
        return exc
    if isinstance(exc, WeChatUnavailable):
        return Transient(str(exc), code=exc.errcode, reason="unreachable")
    if isinstance(exc, WeChatError):
        reason = WECHAT_REASONS.get(exc.errcode, "refused")
        if exc.errcode in WECHAT_TRANSIENT_CODES:
            return Transient(str(exc), code=exc.errcode, reason=reason)
        return Permanent(str(exc), code=exc.errcode, reason=reason)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return Transient(f"收件地址暂时被拒绝：{exc.recipients}", code=codes[0], reason="smtp_busy")
        return Permanent(
            f"收件地址被拒绝：{exc.recipients}", code=codes[0] if codes else None, reason="rejected"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"{type(exc).__name__}: {exc.smtp_code} {exc.smtp_error!r}"
        if 400 <= exc.smtp_code < 500:
            return Transient(text, code=exc.smtp_code, reason="smtp_busy")
        return Permanent(text, code=exc.smtp_code, reason="rejected")
    if isinstance(exc, (smtplib.SMTPException, OSError, socket.timeout, requests.RequestException)):
        # Disconnected, refused, timed out, unreachable: the server may answer later.
        return Transient(f"{type(exc).__name__}: {exc}", reason="unreachable")
    return None


# --- Settings -------------------------------------------------------------------------------------


def _backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, drawn from its upper half."""
    base = settings.OUTBOX_RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    ceiling = min(base, settings.OUTBOX_RETRY_BACKOFF_MAX_SECONDS)
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def _rate(channel: str) -> int:
    """Sends per second allowed on ``channel`` across every worker (0: unlimited)."""
    return int(settings.OUTBOX_RATES.get(channel, settings.OUTBOX_RATES.get("default", 0)) or 0)


def rate_limit_wait(channel: str) -> None:
    """Wait for this send's turn on ``channel``: rate − 1 sends a second (one slot kept free; a rate
    of 1 stays 1), spread over the second, across every worker (turns are counted in the shared cache).

    A second is cut into ``rate`` slots of 1/rate s; each send takes the next free slot of the current
    second and sleeps until it starts. Sends are therefore spaced, never bunched at a second's edge (a
    plain per-second counter lets the end of one second and the start of the next go out together,
    twice the rate within a few milliseconds). Slots already past are skipped, not spent at once after
    a quiet spell. A cache outage does not stop sends."""
    limit = _rate(channel)
    if limit <= 0:
        return
    # The last slot of each second stays free: a call reaches the other side a few milliseconds
    # after its slot starts, so with every slot used the second's last call could land in the
    # next second beside that second's full budget (rate + 1 where the other side counts).
    usable = limit - 1 if limit > 1 else 1
    while True:
        now = time.time()
        second = int(now)
        current = int((now - second) * limit)  # the slot this instant falls in, 0 … limit-1
        key = f"outbox:rate:{channel}:{second}"  # the last slot of this second someone took
        try:
            cache.add(key, current - 1, timeout=5)
            slot = cache.incr(key)
            if slot < current:  # the second was quiet until now: jump past the slots gone by
                slot = cache.incr(key, current - slot)
        except ValueError:  # the key expired between add and incr: try this second again
            continue
        except Exception as exc:
            from wechathhu.api.exceptions import is_cache_outage

            if not is_cache_outage(exc):
                raise
            logger.warning("Outbox rate limit unavailable (cache down): %r", exc)
            return
        if slot < usable:
            time.sleep(max(0.0, second + slot / limit - time.time()))
            return
        time.sleep(max(0.0, second + 1 - time.time()) + 0.001)  # this second is full


# --- Registry -------------------------------------------------------------------------------------


def delivery_models() -> list[type[OutboxDelivery]]:
    """Every concrete delivery model of the installed apps."""
    return [m for m in apps.get_models() if issubclass(m, OutboxDelivery)]


def _model(label: str) -> type[OutboxDelivery]:
    model = apps.get_model(label)
    if not issubclass(model, OutboxDelivery):
        raise TypeError(f"{label} is not an outbox delivery model")
    return model


# --- Queueing -------------------------------------------------------------------------------------


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def enqueue_now(model: type[OutboxDelivery], ids: Iterable[int]) -> int:
    """Queue ``outbox.deliver`` tasks for these rows now, in batches of ``OUTBOX_TASK_BATCH`` (or the
    model's ``outbox_task_batch``) over
    one broker connection; returns how many rows were queued. A broker outage stops the queueing
    quietly: the sweep finds the rows later."""
    chunks = list(_chunks(list(ids), model.outbox_task_batch or settings.OUTBOX_TASK_BATCH))
    done = enqueue_many(DELIVER_TASK, [{"model": model._meta.label, "ids": chunk} for chunk in chunks])
    return sum(len(chunk) for chunk in chunks[:done])


def enqueue_on_commit(model: type[OutboxDelivery], ids: Iterable[int]) -> None:
    """Queue these rows for sending once the current transaction commits (nothing on rollback)."""
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: enqueue_now(model, ids))


# --- Sending --------------------------------------------------------------------------------------


def _claim(model: type[OutboxDelivery], pk: int, now) -> bool:
    """Take one due row (queued, or sending with an expired lease) with one conditional UPDATE:
    sending, one more attempt, leased. False when another worker has it, it is finished, or it is
    not due yet. Two workers racing for a row: the database's row lock lets one UPDATE through;
    the other re-reads the row, which is no longer due (its lease is in the future)."""
    lease = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    due = model.objects.filter(pk=pk, status__in=PENDING_STATUSES, next_attempt_at__lte=now)
    if model.outbox_at_most_once:  # a call that started under a lease now expired: see interrupt_stale
        due = due.exclude(status=DeliveryStatus.SENDING, reason=IN_FLIGHT)
    return bool(
        due.update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease, updated_at=now
        )
    )


def _record(model, pk: int, attempt: int, **fields) -> bool:
    """Write an outcome, only if this worker still holds the row (same attempt, still sending)."""
    fields["updated_at"] = timezone.now()
    done = model.objects.filter(pk=pk, status=DeliveryStatus.SENDING, attempts=attempt).update(**fields)
    if not done:
        logger.warning("Outbox %s #%s: lost the row while sending (lease expired?)", model._meta.label, pk)
    return bool(done)


def _record_outcome(model, pk: int, attempt: int, outcome: Outcome) -> str:
    """Skip → skipped; transient with attempts left → queued again after a backoff; else failed."""
    next_attempt_at = None
    if isinstance(outcome, Skip):
        status = DeliveryStatus.SKIPPED
    elif isinstance(outcome, Transient) and attempt < settings.OUTBOX_MAX_ATTEMPTS:
        status = DeliveryStatus.QUEUED
        next_attempt_at = timezone.now() + timedelta(seconds=_backoff_seconds(attempt))
    else:
        status = DeliveryStatus.FAILED
    _record(
        model,
        pk,
        attempt,
        status=status,
        next_attempt_at=next_attempt_at,
        reason=outcome.reason[:32],
        last_error=outcome.message[:1000],
        error_code=outcome.code,
    )
    return status


def deliver_one(model: type[OutboxDelivery], pk: int) -> str | None:
    """Claim and send one row; returns the status it ended in, or None if it was not ours."""
    if not _claim(model, pk, timezone.now()):
        return None
    delivery = model.objects.select_related(*model.outbox_select_related).filter(pk=pk).first()
    if delivery is None:  # deleted between the claim and the read
        return None
    attempt = delivery.attempts  # ours: _record writes only while the row still has it
    rate_limit_wait(delivery.get_outbox_channel())
    if model.outbox_at_most_once and not _record(model, pk, attempt, reason=IN_FLIGHT):
        return None  # the lease ran out while waiting for the rate: another worker has the row
    try:
        extra = delivery.outbox_send() or {}
    except Exception as exc:
        outcome = classify(exc)
        if outcome is None:
            # A bug, not the outside world: record it (never lost) and let the task log it.
            _record_outcome(model, pk, attempt, Permanent(f"{type(exc).__name__}: {exc}", reason="error"))
            raise
        logger.info("Outbox %s #%s attempt %s: %r", model._meta.label, pk, attempt, outcome)
        return _record_outcome(model, pk, attempt, outcome)
    now = timezone.now()
    cleared = {"last_error": "", "error_code": None, "reason": ""}
    _record(
        model, pk, attempt, status=DeliveryStatus.SENT, sent_at=now, next_attempt_at=None, **cleared, **extra
    )
    return DeliveryStatus.SENT


def deliver(model_label: str, ids: Iterable[int]) -> dict[str, int]:
    """Send these rows of ``model_label`` one after the other; returns counts by outcome.

    Rows already finished, being sent by another worker, or not due yet are left alone, so a
    duplicate task, a re-run after a crash or a sweep racing the fast path sends nothing twice.
    Rows that will retry soon get a delayed task of their own (the sweep is the safety net).
    """
    model = _model(model_label)
    counts: dict[str, int] = {}
    retry_ids: list[int] = []
    for pk in ids:
        status = deliver_one(model, pk)
        key = status or "not_ours"
        counts[key] = counts.get(key, 0) + 1
        if status == DeliveryStatus.QUEUED:
            retry_ids.append(pk)
    if retry_ids:
        _schedule_retry(model, retry_ids)
    return counts


def _schedule_retry(model: type[OutboxDelivery], ids: list[int]) -> None:
    """Queue a delayed task for rows that will be due again soon; far retries wait for the sweep
    (a countdown longer than the broker's visibility timeout would be redelivered in a loop)."""
    from wechathhu.celery import app

    if app.conf.task_always_eager:
        return  # in-process tasks cannot wait: the sweep sends them when they are due
    # The latest of them: by then every one is due (an earlier one waits a little longer).
    next_at = model.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).aggregate(
        last=models.Max("next_attempt_at")
    )["last"]
    if next_at is None:
        return
    countdown = max(0.0, (next_at - timezone.now()).total_seconds()) + 1
    if countdown <= settings.OUTBOX_RETRY_TASK_MAX_COUNTDOWN:
        enqueue(DELIVER_TASK, countdown=countdown, model=model._meta.label, ids=ids)


# --- The sweep and staff actions --------------------------------------------------------------------


def due_ids(model: type[OutboxDelivery], *, now=None, limit: int | None = None) -> list[int]:
    """Rows that should be sent now and that nothing is working on: a retry that is due, a send
    whose lease expired (its worker died), a fresh row whose own task had its chance (it has
    been due for ``OUTBOX_SWEEP_GRACE_SECONDS``: the broker was down, or the task was lost)."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    rows = (
        model.objects.filter(
            Q(status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at__lte=grace)
            | Q(status=DeliveryStatus.QUEUED, attempts__gt=0, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, next_attempt_at__lte=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )
    return list(rows[: limit or settings.OUTBOX_SWEEP_LIMIT])


def give_up_stale(model: type[OutboxDelivery], *, now=None) -> int:
    """Fail the rows still pending ``OUTBOX_GIVE_UP_HOURS`` after they were written."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.OUTBOX_GIVE_UP_HOURS)
    return model.objects.filter(status__in=PENDING_STATUSES, created_at__lt=cutoff).update(
        status=DeliveryStatus.FAILED,
        reason="expired",
        last_error="超过重试期限，未能发送。",
        next_attempt_at=None,
        updated_at=now,
    )


def interrupt_stale(model: type[OutboxDelivery], *, now=None) -> int:
    """At-most-once models: fail the rows whose worker died during their outside call (sending,
    its call started, its lease expired) as "interrupted" — the other side may have it; sending it
    again could make a second copy. Returns how many."""
    if not model.outbox_at_most_once:
        return 0
    now = now or timezone.now()
    return model.objects.filter(
        status=DeliveryStatus.SENDING, reason=IN_FLIGHT, next_attempt_at__lte=now
    ).update(
        status=DeliveryStatus.FAILED,
        reason=INTERRUPTED,
        last_error="发送过程中工作进程中断，对方可能已收到；为免重复未自动重发，如需补发请重试。",
        next_attempt_at=None,
        updated_at=now,
    )


def sweep(*, now=None) -> int:
    """The periodic job: give up on stale rows, fail interrupted at-most-once sends, queue every
    due row again. Returns rows queued."""
    queued = 0
    for model in delivery_models():
        give_up_stale(model, now=now)
        interrupt_stale(model, now=now)
        queued += enqueue_now(model, due_ids(model, now=now))
    return queued


def retry(queryset) -> int:
    """Staff: send the unsent rows of ``queryset`` now — failed and skipped ones with a fresh set
    of attempts, queued ones without waiting for their backoff. Rows being sent or sent are left
    alone. Queued after the current transaction commits; returns how many rows were re-armed."""
    model = queryset.model
    now = timezone.now()
    finished = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
    with transaction.atomic():
        ids = list(
            queryset.filter(status__in=(DeliveryStatus.QUEUED, *finished)).values_list("pk", flat=True)
        )
        model.objects.filter(pk__in=ids, status__in=finished).update(attempts=0)
        model.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.QUEUED, next_attempt_at=now, reason="", updated_at=now
        )
        enqueue_on_commit(model, ids)
    return len(ids)


def status_counts(queryset) -> dict[str, int]:
    """How many rows of ``queryset`` are in each status (every status listed, zeros included)."""
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    for row in queryset.order_by().values("status").annotate(n=models.Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


__all__ = [
    "DeliveryStatus",
    "OutboxDelivery",
    "Permanent",
    "Skip",
    "Transient",
    "classify",
    "deliver",
    "deliver_one",
    "delivery_models",
    "due_ids",
    "enqueue_now",
    "enqueue_on_commit",
    "enqueue_task_on_commit",
    "give_up_stale",
    "interrupt_stale",
    "rate_limit_wait",
    "retry",
    "status_counts",
    "sweep",
]


def failed_counts(models=None) -> dict[type[OutboxDelivery], int]:
    """How many rows of each delivery model ended ``failed`` (the admin home's figure): one query
    per model (indexed by status), none per row."""
    return {
        model: model.objects.filter(status=DeliveryStatus.FAILED).count()
        for model in (delivery_models() if models is None else models)
    }
