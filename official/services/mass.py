"""Tags and mass sends (群发).

A mass send is scarce: a service account reaches each follower at most 4 times a calendar
month, and has at most 100 tags. So it is for rare broadcasts chosen explicitly (everyone, a
department, a grade, a group by tag; a class by openid list), with the remaining allowance shown
before sending. Everyday targeted messages go as template messages through the delivery rules.

The tags mirror departments, grades and groups (``tag_sync``); the local ``OfficialTag.members``
records what WeChat was told, so a synchronisation sends only the difference and a crash half
way resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Value, When
from django.utils import timezone

from wechathhu.core import outbox
from wechathhu.core.errors import ApplicationError
from wechathhu.integrations import official

from ..errors import OfficialErrorCode as E
from ..models import (
    TAG_LIMIT,
    Follower,
    InboundMessage,
    MassAudience,
    MassSend,
    MassSendDelivery,
    MassStatus,
    OfficialTag,
    TagSource,
)

logger = logging.getLogger(__name__)

USER_TAG_LIMIT = 20  # a follower carries at most 20 tags
OPENID_LIST_MIN, OPENID_LIST_MAX = 2, 10000


def _wechat(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except official.OfficialDisabled as exc:
        raise ApplicationError(str(exc), code=E.DISABLED) from exc
    except official.WeChatUnavailable as exc:
        raise ApplicationError(str(exc), status=503, code=E.WECHAT_UNAVAILABLE) from exc
    except official.WeChatError as exc:
        raise ApplicationError(f"微信拒绝了请求：{exc}（{exc.errcode}）", code=E.WECHAT_ERROR) from exc


# --- Tags ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagSpec:
    source: str
    name: str
    department_id: int | None = None
    grade: int | None = None
    group_id: int | None = None


def _tag_name(label: str, name: str, taken: set[str], pk: int) -> str:
    candidate = f"{label}-{name}"[:30]
    if candidate in taken:
        candidate = f"{label}{pk}-{name}"[:30]
    taken.add(candidate)
    return candidate


def tag_plan() -> list[TagSpec]:
    """The tags the portal wants: one per department, per grade, per group."""
    from accounts.models import CampusGroup, Department, SchoolClass

    taken: set[str] = set()
    specs = [
        TagSpec(TagSource.DEPARTMENT, _tag_name("系所", d.name, taken, d.pk), department_id=d.pk)
        for d in Department.objects.order_by("name", "pk")
    ]
    grades = (
        SchoolClass.objects.exclude(grade=None).values_list("grade", flat=True).distinct().order_by("grade")
    )
    specs += [TagSpec(TagSource.GRADE, _tag_name("年级", f"{g}级", taken, g), grade=g) for g in grades]
    specs += [
        TagSpec(TagSource.GROUP, _tag_name("分组", g.name, taken, g.pk), group_id=g.pk)
        for g in CampusGroup.objects.order_by("name", "pk")
    ]
    return specs


def _desired_members(tags: list[OfficialTag]) -> dict[int, set[int]]:
    """tag id -> ids of the subscribed, bound followers it should carry (≤ 20 tags a follower:
    department first, then grade, then groups by name)."""
    followers = Follower.objects.filter(subscribed=True, user__is_active=True)
    by_department = defaultdict(set)
    by_grade = defaultdict(set)
    for follower_id, department_id, grade in followers.values_list(
        "pk", "user__department_id", "user__school_class__grade"
    ):
        if department_id:
            by_department[department_id].add(follower_id)
        if grade:
            by_grade[grade].add(follower_id)
    by_group = defaultdict(set)
    for follower_id, group_id in followers.filter(user__group_memberships__isnull=False).values_list(
        "pk", "user__group_memberships__group_id"
    ):
        by_group[group_id].add(follower_id)
    order = {TagSource.DEPARTMENT: 0, TagSource.GRADE: 1, TagSource.GROUP: 2}
    counts: dict[int, int] = defaultdict(int)
    desired: dict[int, set[int]] = {}
    for tag in sorted(tags, key=lambda t: (order[t.source], t.name)):
        if tag.source == TagSource.DEPARTMENT:
            wanted = by_department.get(tag.department_id, set())
        elif tag.source == TagSource.GRADE:
            wanted = by_grade.get(tag.grade, set())
        else:
            wanted = by_group.get(tag.group_id, set())
        kept = set()
        for follower_id in wanted:
            if counts[follower_id] < USER_TAG_LIMIT:
                counts[follower_id] += 1
                kept.add(follower_id)
        desired[tag.pk] = kept
    return desired


def _local_tags(specs: list[TagSpec]) -> tuple[list[OfficialTag], list[OfficialTag]]:
    """Make the local rows match the plan: ``(wanted, obsolete)``; obsolete ones (their source is
    gone) still exist at WeChat until the sync deletes them there."""
    wanted = []
    for spec in specs:
        lookup = {
            TagSource.DEPARTMENT: {"department_id": spec.department_id},
            TagSource.GRADE: {"grade": spec.grade},
            TagSource.GROUP: {"group_id": spec.group_id},
        }[spec.source]
        tag = OfficialTag.objects.filter(**lookup).first()
        if tag is None:
            clash = OfficialTag.objects.filter(name=spec.name).first()
            if clash is not None:  # an obsolete tag of the same name: take it over
                tag = clash
                for name, value in {"department_id": None, "grade": None, "group_id": None, **lookup}.items():
                    setattr(tag, name, value)
                tag.source = spec.source
                tag.save()
            else:
                tag = OfficialTag.objects.create(source=spec.source, name=spec.name, **lookup)
        wanted.append(tag)
    wanted_ids = {t.pk for t in wanted}
    obsolete = list(OfficialTag.objects.exclude(pk__in=wanted_ids))
    return wanted, obsolete


def tag_sync() -> dict:
    """Bring WeChat's tags and their members in line with departments, grades and groups.

    Refused before any change when the account would exceed 100 tags. Each batch of (un)tagging
    (≤ 50 openids) is recorded locally as soon as WeChat accepted it. Returns counts.
    """
    specs = tag_plan()
    remote = _wechat(official.tag_list)
    with transaction.atomic():
        tags, obsolete = _local_tags(specs)
    names = {spec.name for spec in specs}
    ours = {t.wechat_id for t in [*tags, *obsolete] if t.wechat_id is not None}
    foreign = [t for t in remote if t.get("id") not in ours and t.get("name") not in names]
    if len(foreign) + len(tags) > TAG_LIMIT:
        raise ApplicationError(
            f"公众号最多 {TAG_LIMIT} 个标签：需要 {len(tags)} 个（系所、年级、分组各一个），"
            f"另有 {len(foreign)} 个其他标签。请减少分组或在公众平台删除不用的标签。",
            code=E.TAG_LIMIT,
        )
    stats = {"created": 0, "deleted": 0, "tagged": 0, "untagged": 0, "tags": len(tags)}
    for tag in obsolete:
        if tag.wechat_id is not None:
            _wechat(official.tag_delete, tag_id=tag.wechat_id)
        tag.delete()
        stats["deleted"] += 1
    remote_by_name = {t.get("name"): t for t in remote}
    remote_names = {t.get("id"): t.get("name") for t in remote}
    for tag, spec in zip(tags, specs, strict=True):
        if tag.wechat_id is None:
            existing = remote_by_name.get(spec.name)
            tag.wechat_id = existing["id"] if existing else _wechat(official.tag_create, name=spec.name)
            stats["created"] += 0 if existing else 1
        elif remote_names.get(tag.wechat_id) not in (None, spec.name):
            _wechat(official.tag_update, tag_id=tag.wechat_id, name=spec.name)
        tag.name = spec.name
        tag.save(update_fields=["wechat_id", "name", "updated_at"])
    desired = _desired_members(tags)
    for tag in tags:
        current = set(tag.members.values_list("pk", flat=True))
        add, remove = desired[tag.pk] - current, current - desired[tag.pk]
        stats["tagged"] += _apply(tag, sorted(add), official.tag_members_add, tag.members.add)
        stats["untagged"] += _apply(tag, sorted(remove), official.tag_members_remove, tag.members.remove)
        OfficialTag.objects.filter(pk=tag.pk).update(synced_at=timezone.now())
    return stats


def _apply(tag: OfficialTag, follower_ids: list[int], call, record) -> int:
    openids = dict(Follower.objects.filter(pk__in=follower_ids).values_list("pk", "openid"))
    done = 0
    for start in range(0, len(follower_ids), official.TAG_BATCH):
        batch = [pk for pk in follower_ids[start : start + official.TAG_BATCH] if pk in openids]
        _wechat(call, tag_id=tag.wechat_id, openids=[openids[pk] for pk in batch])
        record(*batch)
        done += len(batch)
    return done


# --- Mass sends ---------------------------------------------------------------------------------------


def month_of(now: datetime) -> date:
    return timezone.localdate(now).replace(day=1)


def mass_audience(*, mass: MassSend) -> QuerySet[Follower]:
    followers = Follower.objects.filter(subscribed=True)
    if mass.audience == MassAudience.TAG:
        return followers.filter(tags=mass.tag_id)
    if mass.audience == MassAudience.CLASS:
        return followers.filter(user__school_class=mass.school_class_id, user__is_active=True)
    return followers


@dataclass(frozen=True)
class Allowance:
    recipients: int  # subscribed followers in the audience (as far as the portal knows)
    remaining: int  # further mass sends this month that still reach all of them
    limit: int


def mass_allowance(*, mass: MassSend, now: datetime | None = None) -> Allowance:
    """How many more mass sends this calendar month reach every follower of ``mass``'s audience."""
    month = month_of(now or timezone.now())
    used = Case(When(mass_month=month, then=F("mass_count")), default=Value(0), output_field=IntegerField())
    figures = mass_audience(mass=mass).aggregate(n=Count("pk"), used=Max(used))
    limit = settings.WECHAT_OFFICIAL_MASS_MONTHLY_LIMIT
    return Allowance(recipients=figures["n"], remaining=max(0, limit - (figures["used"] or 0)), limit=limit)


@transaction.atomic
def mass_send_save(*, mass: MassSend) -> MassSend:
    """Save a draft (only drafts change); the audience keeps only what it uses."""
    if mass.pk and MassSend.objects.filter(pk=mass.pk).exclude(status=MassStatus.DRAFT).exists():
        raise ApplicationError("已发送的群发不能修改。", code=E.MASS_NOT_DRAFT)
    if mass.audience != MassAudience.TAG:
        mass.tag = None
    if mass.audience != MassAudience.CLASS:
        mass.school_class = None
    mass.full_clean()
    mass.save()
    return mass


def _check_sendable(mass: MassSend) -> None:
    try:
        mass.full_clean()
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages), code=E.MASS_AUDIENCE) from exc
    if mass.audience == MassAudience.TAG and mass.tag.wechat_id is None:
        raise ApplicationError("该标签还没有同步到微信，请先“同步标签”。", field="tag", code=E.MASS_AUDIENCE)


@transaction.atomic
def mass_send_queue(*, mass: MassSend, by, force: bool = False, now: datetime | None = None) -> MassSend:
    """Send a draft: checked, its allowance confirmed, then handed to the outbox (which makes the
    one WeChat call after the commit). ``force`` sends even when some followers have no
    allowance left this month (WeChat filters them out)."""
    mass = MassSend.objects.select_for_update().select_related("tag").get(pk=mass.pk)
    if mass.status != MassStatus.DRAFT:
        raise ApplicationError("该群发已发送过。", code=E.MASS_NOT_DRAFT)
    _check_sendable(mass)
    allowance = mass_allowance(mass=mass, now=now)
    if allowance.recipients == 0:
        raise ApplicationError("该范围内没有关注公众号的粉丝。", code=E.MASS_AUDIENCE)
    if allowance.remaining <= 0 and not force:
        raise ApplicationError(
            f"该范围内有粉丝本月已收满 {allowance.limit} 次群发，再发他们将收不到。确认仍要发送请勾选“仍然发送”。",
            code=E.MASS_ALLOWANCE,
        )
    if mass.audience == MassAudience.CLASS:
        openids = list(
            mass_audience(mass=mass).order_by("pk").values_list("openid", flat=True)[: OPENID_LIST_MAX + 1]
        )
        if not OPENID_LIST_MIN <= len(openids) <= OPENID_LIST_MAX:
            raise ApplicationError(
                f"按 OpenID 群发需要 {OPENID_LIST_MIN}–{OPENID_LIST_MAX} 位关注者（该班级有 {len(openids)} 位）；"
                "人数少时请用模板消息。",
                code=E.MASS_AUDIENCE,
            )
        mass.openids = openids
    mass.status = MassStatus.QUEUED
    mass.sent_by = by
    mass.recipient_estimate = allowance.recipients
    mass.save(update_fields=["status", "sent_by", "recipient_estimate", "openids", "updated_at"])
    delivery = MassSendDelivery.objects.create(mass_send=mass, idempotency_key=f"official-mass:{mass.pk}")
    outbox.enqueue_on_commit(MassSendDelivery, [delivery.pk])
    return mass


def mass_send_submit(*, mass: MassSend) -> None:
    """The one WeChat call of a queued mass send (the outbox's ``outbox_send``). A repeat after a
    crash is refused by WeChat for the same ``clientmsgid`` (45065) and counts as submitted."""
    mass = MassSend.objects.select_related("tag").get(pk=mass.pk)
    if mass.status != MassStatus.QUEUED:
        return
    try:
        msg_id, data_id = official.mass_send(
            kind=mass.kind,
            content=mass.content,
            media_id=mass.media_id,
            client_msg_id=f"wechathhu-mass-{mass.pk}",
            to_all=mass.audience == MassAudience.ALL,
            tag_id=mass.tag.wechat_id if mass.audience == MassAudience.TAG else None,
            openids=mass.openids if mass.audience == MassAudience.CLASS else None,
        )
    except official.WeChatError as exc:
        if exc.errcode != 45065:
            raise
        logger.info("Mass send %s was already submitted (45065)", mass.pk)
        msg_id = data_id = None
    mass_send_record_submitted(mass=mass, msg_id=msg_id, msg_data_id=data_id)


@transaction.atomic
def mass_send_record_submitted(
    *, mass: MassSend, msg_id: int | None, msg_data_id: int | None, now: datetime | None = None
) -> None:
    """WeChat took the send: its id, and one more mass send this month for each recipient."""
    now = now or timezone.now()
    mass = MassSend.objects.select_for_update().get(pk=mass.pk)
    if mass.status != MassStatus.QUEUED:
        return
    mass.status = MassStatus.SUBMITTED
    mass.msg_id, mass.msg_data_id, mass.submitted_at = msg_id, msg_data_id, now
    mass.save(update_fields=["status", "msg_id", "msg_data_id", "submitted_at", "updated_at"])
    month = month_of(now)
    audience = mass_audience(mass=mass)
    audience.filter(mass_month=month).update(mass_count=F("mass_count") + 1)
    audience.filter(Q(mass_month__isnull=True) | ~Q(mass_month=month)).update(mass_month=month, mass_count=1)
    if msg_id is not None:  # the job report may have come first (a fast job)
        report = (
            InboundMessage.objects.filter(event="masssendjobfinish", msg_id=msg_id)
            .values_list("event_key", "content")
            .first()
        )
        if report is not None:
            mass_send_record_finish(msg_id=msg_id, status=report[0], counts=json.loads(report[1] or "{}"))


def mass_send_record_finish(*, msg_id: int, status: str, counts: dict) -> int:
    """WeChat's MASSSENDJOBFINISH: the job's totals (total, filtered, sent, error) on the send."""
    updated = MassSend.objects.filter(msg_id=msg_id).update(
        status=MassStatus.FINISHED,
        finish_status=(status or "")[:64],
        total_count=counts.get("total"),
        filter_count=counts.get("filter"),
        sent_count=counts.get("sent"),
        error_count=counts.get("error"),
        finished_at=timezone.now(),
    )
    if not updated:
        logger.info("MASSSENDJOBFINISH for msg_id %s before (or without) its send; kept for it", msg_id)
    return updated
