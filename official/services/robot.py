"""The robot (自动回复): built-in commands for bound users, #topics#, staff keyword rules.

``robot_answer`` decides what a text (or a menu click's key) gets, within the webhook's
transaction and time budget; a command that does slow work (报修: a repair and its mail
routing) answers at once and runs in Celery (``robot_followup_run``), its result following as a
customer-service message. What the robot cannot answer goes to the inbox (``None``).

The commands read and write through the other apps' selectors and services only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import time_ns

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from wechathhu.api.exceptions import is_cache_outage
from wechathhu.core.errors import ApplicationError

from ..models import Follower, Handling, InboundMessage, KeywordRule, MatchKind, ReplyKind

logger = logging.getLogger(__name__)

_SPLIT = re.compile(r"[\s\u3000]+")
MAX_LISTED = 5


@dataclass
class Answer:
    """What the robot says: a text, one article or an image; ``followup`` names the slow part
    that runs in Celery after the commit."""

    handling: str
    text: str = ""
    article: dict | None = None
    image_media_id: str = ""
    followup: str = ""
    data: dict = field(default_factory=dict)


def bind_url() -> str:
    """The link that binds a follower: page OAuth, then the H5 login (or claim) when unbound."""
    return settings.SITE_URL + reverse("official:oauth-start")


def bind_link(text: str = "点此绑定账号") -> str:
    return f'<a href="{escape(bind_url())}">{text}</a>'


def _local_day(now: datetime) -> tuple[datetime, datetime]:
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _hm(value: datetime) -> str:
    return timezone.localtime(value).strftime("%H:%M")


# --- The commands -------------------------------------------------------------------------------------


def _help(follower: Follower, args: str) -> Answer:
    lines = ["可用指令："]
    if follower.user_id:
        lines += [
            "「未读」未读消息数和最新标题",
            "「今日」我今天的会议室预约、活动和打卡",
            "「通讯录 张三」查找同事的公开联系方式",
            "「指南 报销」查找服务指南",
            "「报修 地点 描述」提交故障报修",
            "「#话题#内容」发表话题，「#话题#」查看最新讨论",
        ]
    else:
        lines += ["「#话题#」查看话题的最新讨论", f"绑定账号后可查询消息、预约、报修等：{bind_link()}"]
    lines.append("其他问题直接留言，工作人员会尽快回复。")
    return Answer(Handling.COMMAND, text="\n".join(lines))


def _unread(follower: Follower, args: str) -> Answer:
    from messaging.selectors import message_unread_count, message_unread_titles

    user = follower.user
    count = message_unread_count(user=user)
    if not count:
        return Answer(Handling.COMMAND, text="您没有未读消息。")
    lines = [f"您有 {count} 条未读消息，最新的是："]
    lines += [f"· {title}" for title in message_unread_titles(user=user, limit=3)]
    return Answer(Handling.COMMAND, text="\n".join(lines))


def _directory(follower: Follower, args: str) -> Answer:
    from accounts.models import Visibility
    from accounts.privacy import PRIVATE_FIELDS, ContactVisibility
    from accounts.selectors import contact_list, contact_rows

    term = args.strip()[:50]
    if not term:
        return Answer(Handling.COMMAND, text="请在“通讯录”后写上要找的姓名，如：通讯录 张三")
    labels = {
        "post": "职位",
        "tel": "办公电话",
        "email": "邮箱",
        "phone": "手机",
        "qq": "QQ",
        "wechat": "微信",
    }
    queryset = contact_list(visibility=ContactVisibility(follower.user), search=term)
    rows = list(contact_rows(queryset)[: MAX_LISTED + 1])
    if not rows:
        return Answer(Handling.COMMAND, text=f"通讯录中没有找到“{term}”。")
    lines = []
    for row in rows[:MAX_LISTED]:
        # Over WeChat only what its owner shows every signed-in user (所有登录用户).
        shown = [
            f"{labels[name]} {getattr(row, name)}"
            for name in PRIVATE_FIELDS
            if getattr(row, f"{name}_visibility") == Visibility.EVERYONE and getattr(row, name)
        ]
        head = f"{row.last_name}{row.first_name}" + (
            f"（{row.department_name}）" if row.department_name else ""
        )
        lines.append("；".join([head, *shown]))
    if len(rows) > MAX_LISTED:
        lines.append("结果较多，请输入更完整的姓名。")
    return Answer(Handling.COMMAND, text="\n".join(lines))


def _guides(follower: Follower, args: str) -> Answer:
    from guides.links import guide_link_make
    from guides.selectors import guide_list_published

    term = args.strip()[:50]
    queryset = guide_list_published()
    if term:
        queryset = queryset.filter(name__icontains=term)
    guides = list(queryset[:MAX_LISTED])
    if not guides:
        return Answer(Handling.COMMAND, text=f"没有找到与“{term}”有关的服务指南。")
    lines = [f"与“{term}”有关的服务指南：" if term else "最新的服务指南："]
    for guide in guides:
        url, _ = guide_link_make(guide=guide)
        lines.append(f'· <a href="{escape(url)}">{escape(guide.name)}</a>')
    return Answer(Handling.COMMAND, text="\n".join(lines))


def _repair(follower: Follower, args: str) -> Answer:
    parts = _SPLIT.split(args.strip(), maxsplit=1)
    if len(parts) < 2 or not parts[0] or not parts[1].strip():
        return Answer(Handling.COMMAND, text="请按“报修 地点 描述”发送，如：报修 科学馆301 投影仪无法开机")
    return Answer(
        Handling.COMMAND,
        text="正在提交报修，稍后告诉您结果。",
        followup="repair",
        data={"location": parts[0][:100], "description": parts[1].strip()[:1000]},
    )


def _today(follower: Follower, args: str) -> Answer:
    from activities.models import ClockinItem, EnrollmentStatus
    from activities.selectors import activity_list_for_user
    from reservations.selectors import reservation_list_upcoming

    user, now = follower.user, timezone.now()
    day_start, day_end = _local_day(now)
    bookings = list(
        reservation_list_upcoming(user=user).filter(reserve_from__lt=day_end).order_by("reserve_from")[:5]
    )
    activities = list(
        activity_list_for_user(user=user, my=True)
        .filter(time_start__lt=day_end, time_end__gt=max(day_start, now))
        .order_by("time_start")[:5]
    )
    windows = list(
        ClockinItem.objects.filter(
            activity__enrollments__user=user,
            activity__enrollments__status=EnrollmentStatus.ENROLLED,
            from_time__lt=day_end,
            to_time__gt=now,
        )
        .select_related("activity")
        .order_by("from_time")[:5]
    )
    lines = [f"今天（{timezone.localtime(now):%m月%d日}）："]
    lines += [f"· 会议室 {b.meetingroom} {_hm(b.reserve_from)}–{_hm(b.reserve_to)}" for b in bookings]
    lines += [
        f"· 活动 {a.name} {_hm(a.time_start)}–{_hm(a.time_end)} {a.location}".rstrip() for a in activities
    ]
    lines += [f"· 打卡 {w.activity.name}「{w.label}」{_hm(w.from_time)}–{_hm(w.to_time)}" for w in windows]
    if len(lines) == 1:
        lines.append("没有会议室预约、活动或打卡安排。")
    return Answer(Handling.COMMAND, text="\n".join(lines))


# name -> (handler, needs a bound user)
COMMANDS = {
    "帮助": (_help, False),
    "help": (_help, False),
    "?": (_help, False),
    "？": (_help, False),
    "未读": (_unread, True),
    "今日": (_today, True),
    "今天": (_today, True),
    "通讯录": (_directory, True),
    "指南": (_guides, True),
    "报修": (_repair, True),
}


def _command(follower: Follower, text: str) -> Answer | None:
    parts = _SPLIT.split(text.strip(), maxsplit=1)
    name = parts[0].lower() if parts[0].isascii() else parts[0]
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    handler, needs_user = entry
    if needs_user and not (follower.user_id and follower.user.is_active):
        return Answer(Handling.COMMAND, text=f"“{parts[0]}”需要先绑定校园账号：{bind_link()}")
    return handler(follower, parts[1] if len(parts) > 1 else "")


# --- Keyword rules ----------------------------------------------------------------------------------


def _regex(pattern: str):
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _active(rule: KeywordRule, clock: time) -> bool:
    if rule.active_from is None or rule.active_until is None:
        return True
    if rule.active_from <= rule.active_until:
        return rule.active_from <= clock < rule.active_until
    return clock >= rule.active_from or clock < rule.active_until  # across midnight


@dataclass(frozen=True)
class _Compiled:
    """A rule ready to match: its pattern folded (exact, contains) or compiled (regex) once."""

    rule: KeywordRule
    match: str
    folded: str
    regex: re.Pattern | None

    @classmethod
    def of(cls, rule: KeywordRule) -> _Compiled:
        regex = _regex(rule.pattern) if rule.match == MatchKind.REGEX else None
        folded = (rule.pattern.strip() if rule.match == MatchKind.EXACT else rule.pattern).casefold()
        return cls(rule, rule.match, folded, regex)

    def matches(self, text: str, folded: str) -> bool:
        if self.match == MatchKind.EXACT:
            return folded.strip() == self.folded
        if self.match == MatchKind.CONTAINS:
            return self.folded in folded
        return bool(self.regex and self.regex.search(text))


# The active rules of this process, compiled, with the version of the shared cache they were read
# at: every save or delete sets a new version (``keyword_rules_changed``), so each worker reloads
# them once after a change and otherwise reads one cache key per lookup instead of the table.
# Without a shared cache (no Redis) they are read at every lookup.
RULES_VERSION_KEY = "official:keyword-rules:version"
_loaded: dict = {"version": None, "rules": ()}


def _load_rules() -> tuple[_Compiled, ...]:
    return tuple(
        _Compiled.of(rule) for rule in KeywordRule.objects.filter(is_active=True).order_by("priority", "id")
    )


def _shared_cache() -> bool:
    """Whether every worker reads the same cache (Redis): a process's own memory (the locmem
    default without Redis) would tell no other worker of a change."""
    return not isinstance(caches["default"], LocMemCache | DummyCache)


def _rules() -> tuple[_Compiled, ...]:
    if not _shared_cache():  # nothing would tell this worker of a change: read them
        return _load_rules()
    try:
        version = cache.get(RULES_VERSION_KEY)
        if version is None:  # first use since the cache was emptied: a version all workers share
            cache.add(RULES_VERSION_KEY, time_ns(), timeout=None)
            version = cache.get(RULES_VERSION_KEY)
    except Exception as exc:
        if not is_cache_outage(exc):
            raise
        return _load_rules()  # no shared cache: nothing tells this worker of a change, so read them
    if version is None or version != _loaded["version"]:
        rules = _load_rules()
        _loaded.update(version=version, rules=rules)
        return rules
    return _loaded["rules"]


def keyword_rules_changed() -> None:
    """Tell every worker to reload the rules (after the commit that changed them)."""

    def bump():
        try:
            cache.set(RULES_VERSION_KEY, time_ns(), timeout=None)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise
            logger.warning(
                "Keyword rules changed but the cache is unreachable: workers reload on their next read"
            )

    transaction.on_commit(bump)


def rule_reply(rule: KeywordRule) -> Answer:
    if rule.reply_kind == ReplyKind.NEWS:
        article = {
            "title": rule.title,
            "description": rule.description,
            "url": rule.url,
            "image": rule.pic_url,
        }
        return Answer(Handling.RULE, article=article)
    if rule.reply_kind == ReplyKind.IMAGE:
        return Answer(Handling.RULE, image_media_id=rule.media_id)
    if rule.reply_kind == ReplyKind.LINK:
        text = f'<a href="{escape(rule.url)}">{escape(rule.title)}</a>'
        if rule.description:
            text = f"{rule.description}\n{text}"
        return Answer(Handling.RULE, text=text)
    return Answer(Handling.RULE, text=rule.text)


def _keyword(text: str, *, now: datetime) -> Answer | None:
    rules = _rules()
    if not rules:
        return None
    clock = timezone.localtime(now).time()
    folded = text.casefold()
    for compiled in rules:
        if _active(compiled.rule, clock) and compiled.matches(text, folded):
            return rule_reply(compiled.rule)
    return None


@transaction.atomic
def keyword_rule_save(*, rule: KeywordRule) -> KeywordRule:
    """Save a staff rule (a regex must compile; each reply kind has what it needs)."""
    rule.full_clean()
    rule.save()
    keyword_rules_changed()
    return rule


@transaction.atomic
def keyword_rules_delete(*, rules) -> int:
    """Delete staff rules (the admin's delete and bulk delete)."""
    deleted, _ = KeywordRule.objects.filter(pk__in=[rule.pk for rule in rules]).delete()
    keyword_rules_changed()
    return deleted


# --- Deciding -------------------------------------------------------------------------------------------


# ``robot_answer(…, writes=False)`` for a text whose answer would write (a #topic# post).
WRITES = object()


def robot_answer(
    *, follower: Follower, text: str, now: datetime | None = None, writes: bool = True
) -> Answer | None:
    """The robot's answer to ``text`` from ``follower``: a built-in command, a #topic#, a staff
    keyword rule (in that order), or ``None`` when it has none (the message goes to the inbox).

    With ``writes=False`` nothing is written: a text whose answer writes (a post to a #topic#)
    gets ``WRITES`` instead, and the caller asks again within its transaction. Every other
    answer only reads (报修's repair is its ``followup``, written after the answer)."""
    from .topics import topic_answer

    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        return None
    return (
        _command(follower, text)
        or topic_answer(follower=follower, text=text, post=writes)
        or _keyword(text, now=now)
    )


# --- The slow part, in Celery ---------------------------------------------------------------------------


def _followup_repair(follower: Follower, data: dict) -> str:
    from repairs.services import repair_request_create

    try:
        with transaction.atomic():
            repair = repair_request_create(
                user=follower.user, location=data["location"], description=data["description"]
            )
    except ApplicationError as exc:
        return f"报修未能提交：{exc.message}"
    except ValidationError as exc:
        return "报修未能提交：" + "；".join(exc.messages)
    return f"报修已提交（编号 {repair.pk}），地点：{repair.location}。处理进展会通知您。"


FOLLOWUPS = {"repair": _followup_repair}


@transaction.atomic
def robot_followup_run(*, inbound_id: int) -> bool:
    """Run the slow part of a command (after the webhook answered) and queue its result as a
    customer-service message. Exactly once per message: the message row is locked and marked in
    the same transaction as the effect and the reply's outbox row. Returns whether it ran now."""
    from .inbox import service_message_queue

    inbound = (
        InboundMessage.objects.select_for_update()
        .select_related("follower__user")
        .filter(pk=inbound_id)
        .first()
    )
    if inbound is None or inbound.followup_done_at is not None or inbound.follower is None:
        return False
    follower = inbound.follower
    answer = _command(follower, inbound.content or inbound.event_key)
    if answer is None or answer.followup not in FOLLOWUPS:
        text = None
    else:
        text = FOLLOWUPS[answer.followup](follower, answer.data)
    if text:
        service_message_queue(
            follower=follower, kind="text", payload={"content": text}, in_reply_to=inbound, by=None
        )
    inbound.followup_done_at = timezone.now()
    inbound.save(update_fields=["followup_done_at"])
    return True
