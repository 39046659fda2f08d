"""Followers: following, scanning, binding to a portal user, positions."""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from wechathhu.core.errors import ApplicationError
from wechathhu.core.tasks import enqueue_on_commit as enqueue_task_on_commit

from ..errors import OfficialErrorCode as E
from ..models import Follower, FollowerLocation, QrScene

logger = logging.getLogger(__name__)

CLASS_SCENE_PREFIX = "class:"
BIND_INACTIVE = "该账号已停用，无法绑定公众号。"


def follower_get_or_create(*, openid: str) -> Follower:
    """The follower row of ``openid``, created on first sight (two workers seeing a new openid at
    once end with one row: the loser of the unique index reads the winner's)."""
    follower = Follower.objects.select_related("user").filter(openid=openid).first()
    if follower is not None:
        return follower
    try:
        with transaction.atomic():
            return Follower.objects.create(openid=openid)
    except IntegrityError:
        return Follower.objects.select_related("user").get(openid=openid)


def follower_lock(*, follower: Follower) -> Follower:
    """The follower's row, read again under its lock (within a transaction). A delivery's
    transaction takes it first: its INSERT's foreign-key check takes a shared lock on the row and
    its later UPDATE an exclusive one, so two deliveries of one follower would otherwise deadlock."""
    locked = Follower.objects.select_for_update().get(pk=follower.pk)
    if locked.user_id and locked.user_id == follower.user_id:
        locked.user = follower.user  # already read (select_related): no query
    return locked


def _scene_class_id(scene: str) -> int | None:
    if scene.startswith(CLASS_SCENE_PREFIX):
        value = scene[len(CLASS_SCENE_PREFIX) :]
        if value.isdigit() and len(value) < 12:
            return int(value)
    return None


def _record_scene(follower: Follower, scene: str) -> QrScene | None:
    """A scanned scene: counted, and a class scene remembered for the binding."""
    if not scene:
        return None
    QrScene.objects.filter(scene=scene).update(scans=F("scans") + 1)
    qr = QrScene.objects.select_related("school_class").filter(scene=scene).first()
    follower.scene = scene[:64]
    if qr is not None and qr.school_class_id:
        follower.scene_class = qr.school_class
    return qr


def follower_subscribe(*, follower: Follower, at: datetime, scene: str = "") -> QrScene | None:
    """A ``subscribe`` event (``scene`` when it came through a parametric QR code)."""
    follower.subscribed = True
    follower.subscribed_at = at
    follower.unsubscribed_at = None
    follower.last_event_at = at
    qr = _record_scene(follower, scene)
    follower.save(
        update_fields=[
            "subscribed",
            "subscribed_at",
            "unsubscribed_at",
            "last_event_at",
            "scene",
            "scene_class",
            "updated_at",
        ]
    )
    if settings.WECHAT_OFFICIAL_FETCH_UNIONID and not follower.unionid:
        enqueue_task_on_commit(UNIONID_TASK, follower_id=follower.pk)
    return qr


def follower_scan(*, follower: Follower, at: datetime, scene: str) -> QrScene | None:
    """A ``SCAN`` event: an existing follower scanned a parametric QR code."""
    follower.subscribed = True
    follower.last_event_at = at
    qr = _record_scene(follower, scene)
    follower.save(update_fields=["subscribed", "last_event_at", "scene", "scene_class", "updated_at"])
    return qr


def follower_unsubscribe(*, follower: Follower, at: datetime) -> None:
    """``unsubscribe``: no message reaches them any more; the binding stays for a return."""
    follower.subscribed = False
    follower.unsubscribed_at = at
    follower.save(update_fields=["subscribed", "unsubscribed_at", "updated_at"])


def follower_touch(*, follower: Follower, at: datetime, message: bool) -> None:
    """The follower interacted: a message opens the 48-hour customer-service window, a menu click
    a one-minute window; only a follower can do either (a row first seen through a message, or
    missed while the account was not configured, is marked following). One UPDATE at most, never
    moving a time backwards."""
    changes = _touch_changes(follower, at, message)
    if changes:
        Follower.objects.filter(pk=follower.pk).update(**changes)
        for name, value in changes.items():
            setattr(follower, name, value)


def _touch_changes(follower: Follower, at: datetime, message: bool) -> dict:
    column = "last_message_at" if message else "last_event_at"
    current = getattr(follower, column)
    changes = {}
    if current is None or current < at:
        changes[column] = at
    if not follower.subscribed:
        changes["subscribed"] = True
    return changes


def follower_touch_needed(*, follower: Follower, at: datetime, message: bool) -> bool:
    """Whether ``follower_touch`` would write (a newer time, or a follower marked not following)."""
    return bool(_touch_changes(follower, at, message))


@transaction.atomic
def follower_bind_user(*, openid: str, user) -> Follower:
    """Bind the official-account ``openid`` to ``user`` (after the user proved who they are: a
    password login or an account claim in the H5 portal, with ``request.session["official_openid"]``
    set by the page OAuth).

    The openid leaves any user it was bound to, and the user's previous openid (another WeChat
    account) is unbound: one follower per user, one user per follower. A class's QR code only
    guides (its welcome names the class): whoever proves who they are is bound, and the class
    scanned stays on the follower as where they came from.
    """
    if not user.is_active:
        raise ApplicationError(BIND_INACTIVE, code=E.BIND_INACTIVE)
    follower = Follower.objects.select_for_update().filter(openid=openid).first()
    if follower is None:
        follower = follower_get_or_create(openid=openid)
        follower = Follower.objects.select_for_update().get(pk=follower.pk)
    if follower.user_id == user.pk:
        return follower
    previous = Follower.objects.select_for_update().filter(user=user).exclude(pk=follower.pk)
    for other in previous:
        logger.info("Official openid %s unbound from user %s (rebound)", other.openid, user.pk)
    previous.update(user=None, bound_at=None)
    follower.user = user
    follower.bound_at = timezone.now()
    follower.save(update_fields=["user", "bound_at", "updated_at"])
    return follower


@transaction.atomic
def follower_unbind(*, follower: Follower) -> Follower:
    follower.user = None
    follower.bound_at = None
    follower.save(update_fields=["user", "bound_at", "updated_at"])
    return follower


@transaction.atomic
def oauth_login_user(*, openid: str, unionid: str | None, session_user):
    """Who a page login through WeChat signs in: the user bound to ``openid``; else the user
    already signed in in this browser, who is bound to it now (the session proved who they are);
    else ``None`` (the H5 login or claim binds it afterwards)."""
    follower = follower_get_or_create(openid=openid)
    follower_set_unionid(follower=follower, unionid=unionid)
    if follower.user_id and follower.user.is_active:
        return follower.user
    if session_user is not None and session_user.is_authenticated and session_user.is_active:
        follower_bind_user(openid=openid, user=session_user)
        return session_user
    return None


UNIONID_TASK = "official.follower_fetch_unionid"


def follower_fetch_unionid(*, follower_id: int) -> str | None:
    """Ask WeChat for a follower's unionid (the key shared with the mini-program account of the same
    person, when the account is bound to an open platform). ``WeChatUnavailable`` propagates (the
    task retries it)."""
    from wechathhu.integrations import official

    follower = Follower.objects.filter(pk=follower_id, unionid__isnull=True).first()
    if follower is None:
        return None
    try:
        info = official.user_info(openid=follower.openid)
    except official.WeChatUnavailable:
        raise
    except official.WeChatError as exc:
        logger.info("No unionid for follower %s: %s (%s)", follower_id, exc, exc.errcode)
        return None
    unionid = info.get("unionid") if isinstance(info, dict) else None
    follower_set_unionid(follower=follower, unionid=unionid if isinstance(unionid, str) else None)
    return follower.unionid


def follower_set_unionid(*, follower: Follower, unionid: str | None) -> None:
    """Store the follower's unionid (user info, page OAuth); an unbound follower whose unionid is
    a user's mini-program unionid is bound to that user on the way (``_link``)."""
    if unionid and follower.unionid != unionid[:64]:
        Follower.objects.filter(pk=follower.pk).update(unionid=unionid[:64])
        follower.unionid = unionid[:64]
    if follower.unionid and not follower.user_id:
        from accounts.models import User

        user = User.objects.filter(
            wechat_unionid=follower.unionid, is_active=True, official_follower=None
        ).first()
        if user is not None:
            _link(follower, user)


def follower_link_unionid(*, user) -> Follower | None:
    """A mini-program login learnt ``user.wechat_unionid``: the unbound follower with that unionid
    (the same WeChat person) is bound to the user without the claim flow. Nothing happens when the
    follower is bound to someone else or the user already has a follower."""
    if not user.wechat_unionid or not user.is_active:
        return None
    follower = Follower.objects.filter(unionid=user.wechat_unionid, user=None).first()
    if follower is None or Follower.objects.filter(user=user).exists():
        return None
    return follower if _link(follower, user) else None


def _link(follower: Follower, user) -> bool:
    """Bind an unbound follower to a user without one, by their shared unionid. One conditional
    UPDATE: a binding made meanwhile (the claim flow, another worker) is never overwritten, and
    the unique user column refuses a second follower for the user."""
    now = timezone.now()
    try:
        with transaction.atomic():
            done = Follower.objects.filter(pk=follower.pk, user=None).update(
                user=user, bound_at=now, updated_at=now
            )
    except IntegrityError:  # the user got another follower meanwhile
        return False
    if done:
        follower.user, follower.bound_at = user, now
        logger.info("Official follower %s bound to user %s by their unionid", follower.pk, user.pk)
    return bool(done)


# --- Positions ---------------------------------------------------------------------------------------

_MICRO = Decimal("0.000001")


def location_record(
    *, follower: Follower, at: datetime, latitude: float, longitude: float, precision=None, label: str = ""
) -> bool:
    """Keep the follower's newest position (a LOCATION event or a location message). Idempotent:
    an older or repeated report changes nothing. Returns whether it was stored."""
    values = {
        "latitude": Decimal(str(latitude)).quantize(_MICRO),
        "longitude": Decimal(str(longitude)).quantize(_MICRO),
        "precision": precision,
        "label": (label or "")[:255],
        "reported_at": at,
    }
    updated = FollowerLocation.objects.filter(follower=follower, reported_at__lt=at).update(**values)
    if updated:
        return True
    if FollowerLocation.objects.filter(follower=follower).exists():
        return False  # a newer (or the same) report is already stored
    try:
        with transaction.atomic():
            FollowerLocation.objects.create(follower=follower, **values)
    except IntegrityError:  # a concurrent report of the same follower won
        return bool(FollowerLocation.objects.filter(follower=follower, reported_at__lt=at).update(**values))
    return True


def locations_purge(*, now: datetime | None = None) -> int:
    """Delete positions older than WECHAT_OFFICIAL_LOCATION_RETENTION_DAYS (a beat job)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WECHAT_OFFICIAL_LOCATION_RETENTION_DAYS)
    deleted, _ = FollowerLocation.objects.filter(reported_at__lt=cutoff).delete()
    return deleted
