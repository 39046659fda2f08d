"""Writes for repairs: creating a request, its workflow, and the new-request mail.

The workflow's allowed moves live in ``TRANSITIONS`` and nowhere else; the API, the admin list
and the admin change form all go through ``repair_request_change_status``.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.utils import timezone

from messaging.models import MessageType
from messaging.services import message_send
from wechathhu.core import outbox
from wechathhu.core.errors import ApplicationError
from wechathhu.core.images import IMAGE_EXTENSIONS

from . import selectors
from .errors import RepairsErrorCode as E
from .models import (
    OPEN_STATUSES,
    EventKind,
    FaultCategory,
    RepairEvent,
    RepairNotification,
    RepairPhoto,
    RepairRequest,
    RepairStatus,
)
from .validators import photo_content_type, validate_photo_count

logger = logging.getLogger(__name__)

S = RepairStatus


class Role(StrEnum):
    STAFF = "staff"
    REPORTER = "reporter"
    SYSTEM = "system"  # the periodic jobs (``by=None``)


# (from, to) → who may make that move. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], frozenset[Role]] = {
    (S.PENDING, S.PROCESSING): frozenset({Role.STAFF}),  # 受理
    (S.PENDING, S.SOLVED): frozenset({Role.STAFF}),  # 当场解决
    (S.PENDING, S.CLOSED): frozenset({Role.STAFF, Role.REPORTER}),  # 无效报修 / 报修人撤销
    (S.PROCESSING, S.PENDING): frozenset({Role.STAFF}),  # 退回待受理
    (S.PROCESSING, S.SOLVED): frozenset({Role.STAFF}),  # 处理完成
    (S.SOLVED, S.CLOSED): frozenset({Role.STAFF, Role.REPORTER, Role.SYSTEM}),  # 确认 / 到期自动关闭
    (S.SOLVED, S.PROCESSING): frozenset({Role.STAFF, Role.REPORTER}),  # 未修好，重新打开
    (S.CLOSED, S.PROCESSING): frozenset({Role.STAFF}),  # 重新打开
}


def roles_of(*, user, repair: RepairRequest) -> set[Role]:
    """The roles ``user`` acts in on ``repair``; ``None`` is the system itself (periodic jobs)."""
    if user is None:
        return {Role.SYSTEM}
    roles = set()
    if user is not None and user.is_staff:
        roles.add(Role.STAFF)
    if user is not None and repair.user_id is not None and user.pk == repair.user_id:
        roles.add(Role.REPORTER)
    return roles


def transition_error(*, from_status: str, to_status: str, roles: Iterable[Role]) -> str | None:
    """Why the move is refused (a message for the user), or ``None`` when it is allowed."""
    label_from, label_to = S(from_status).label, S(to_status).label
    if from_status == to_status:
        return f"报修已是“{label_from}”状态。"
    allowed = TRANSITIONS.get((from_status, to_status))
    if allowed is None:
        return f"报修不能从“{label_from}”变为“{label_to}”。"
    if not allowed & set(roles):
        return f"您无权将报修从“{label_from}”变为“{label_to}”。"
    return None


REPORTER_ACTIONS = ("confirm", "reopen", "rate", "cancel")


def reporter_actions(*, repair: RepairRequest) -> list[str]:
    """What the reporter may do with ``repair`` now, in ``REPORTER_ACTIONS`` order: confirm a solved
    repair, reopen it, rate it once it is solved, cancel it while nobody has taken it on."""
    actions = []
    if repair.status == S.SOLVED and Role.REPORTER in TRANSITIONS.get((repair.status, S.CLOSED), ()):
        actions.append("confirm")
    if Role.REPORTER in TRANSITIONS.get((repair.status, S.PROCESSING), ()):
        actions.append("reopen")
    if repair.status in (S.SOLVED, S.CLOSED) and repair.rating is None:
        actions.append("rate")
    if repair.status == S.PENDING and Role.REPORTER in TRANSITIONS.get((repair.status, S.CLOSED), ()):
        actions.append("cancel")
    return actions


def _lock(repair: RepairRequest) -> RepairRequest:
    return RepairRequest.objects.select_for_update().get(pk=repair.pk)


def _event(repair: RepairRequest, *, actor, kind: str, **fields) -> RepairEvent:
    event = RepairEvent(request=repair, actor=actor, kind=kind, **fields)
    event.full_clean()
    event.save()
    return event


# --- Categories --------------------------------------------------------------------------------


@transaction.atomic
def fault_category_save(*, category: FaultCategory, changed: Iterable[str] = ()) -> FaultCategory:
    """Save a category; a new time limit moves the deadline of its open requests too."""
    category.full_clean()
    category.save()
    if "response_hours" in changed:
        RepairRequest.objects.filter(category=category, status__in=OPEN_STATUSES).update(
            due_at=ExpressionWrapper(
                F("created_at") + timedelta(hours=category.response_hours), output_field=DateTimeField()
            )
        )
    return category


# --- Creating a request and routing its mail ---------------------------------------------------


def _photos_checked(photos: Sequence) -> list[str]:
    """Each photo's real content type, from its bytes (decoded once, with the size and pixel limits);
    a 400 ``{"photos": [...]}`` naming what is wrong with the first bad one. Each upload is renamed
    after its detected type (``photo.png``): the name the uploader gave is never stored."""
    try:
        validate_photo_count(len(photos))
        content_types = [photo_content_type(photo) for photo in photos]
    except ValidationError as exc:
        raise ApplicationError(
            exc.messages[0], field="photos", code=exc.error_list[0].code or E.INVALID_PHOTO
        )
    for upload, content_type in zip(photos, content_types, strict=True):
        upload.name = f"photo{IMAGE_EXTENSIONS[content_type]}"
    return content_types


def repair_request_create(
    *,
    user,
    location: str,
    description: str,
    category: FaultCategory | None = None,
    photos: Sequence = (),
) -> RepairRequest:
    """Save a request (with its photos and first history line) and route its mail.

    The photos are checked (decoded) before the transaction starts, so no lock waits on them. One
    ``RepairNotification`` row per routed address is written in the same transaction; the mails
    are queued after the commit. If the broker is down the request is still saved and answered:
    the periodic re-send picks the unsent rows up once it is back.
    """
    content_types = _photos_checked(photos)
    return _repair_request_save(
        user=user,
        location=location,
        description=description,
        category=category,
        photos=list(zip(photos, content_types, strict=True)),
    )


@transaction.atomic
def _repair_request_save(*, user, location, description, category, photos) -> RepairRequest:
    if category is not None and not category.is_active:
        raise ApplicationError("该故障分类已停用，请重新选择。", field="category", code=E.CATEGORY_INACTIVE)
    now = timezone.now()
    repair = RepairRequest(
        user=user,
        location=location.strip(),
        category=category,
        description=description.strip(),
        status=S.PENDING,
        due_at=selectors.repair_request_due_at(category=category, created_at=now),
    )
    repair.full_clean()
    repair.save()
    for upload, content_type in photos:
        photo = RepairPhoto(request=repair, image=upload, content_type=content_type, size=upload.size)
        photo.full_clean()
        photo.save()
    _event(repair, actor=user, kind=EventKind.CREATED, to_status=S.PENDING)

    RepairNotification.objects.bulk_create(
        RepairNotification(request=repair, recipient=recipient, name=recipient.name, email=recipient.email)
        for recipient in selectors.recipient_route(category_id=repair.category_id)
    )
    # Read back: MySQL (unlike MariaDB and SQLite) returns no ids from a bulk insert.
    outbox.enqueue_on_commit(
        RepairNotification, RepairNotification.objects.filter(request=repair).values_list("id", flat=True)
    )
    return repair


def repair_requests_resend_mail(*, repair_ids: Iterable[int]) -> int:
    """Staff ask for the unsent mail of these requests to be tried again now."""
    return outbox.retry(RepairNotification.objects.filter(request_id__in=list(repair_ids)))


# --- The workflow ------------------------------------------------------------------------------


def _notify_reporter(repair: RepairRequest, *, title: str, content: str) -> None:
    """Tell the reporter through the message center, in the caller's transaction (all or nothing)."""
    if repair.user_id is None:
        return
    message_send(title=title, content=content, type=MessageType.NOTIFICATION, recipient_ids=[repair.user_id])


@transaction.atomic
def repair_request_change_status(
    *, repair: RepairRequest, to_status: str, by, comment: str = ""
) -> RepairRequest:
    """Move a request to ``to_status`` if ``TRANSITIONS`` lets ``by`` make that move.

    Records the change (and ``comment``, shown to the reporter) in the history, keeps the
    solved/closed timestamps, and tells the reporter through the message center unless the
    reporter made the change.
    """
    repair = _lock(repair)
    roles = roles_of(user=by, repair=repair)
    error = transition_error(from_status=repair.status, to_status=to_status, roles=roles)
    if error:
        raise ApplicationError(error, code=E.TRANSITION_NOT_ALLOWED)
    if (
        repair.status == S.SOLVED
        and to_status == S.PROCESSING
        and not comment.strip()
        and roles == {Role.REPORTER}
    ):
        raise ApplicationError("请说明仍未解决的问题。", field="reason", code=E.REASON_REQUIRED)

    from_status, now = repair.status, timezone.now()
    repair.status = to_status
    if to_status == S.SOLVED:
        repair.solved_at = now
    elif to_status in (S.PENDING, S.PROCESSING):
        repair.solved_at = None
        repair.closed_at = None
    if to_status == S.CLOSED:
        repair.closed_at = now
    repair.full_clean()
    repair.save(update_fields=["status", "solved_at", "closed_at", "updated_at"])
    _event(
        repair,
        actor=by,
        kind=EventKind.STATUS,
        from_status=from_status,
        to_status=to_status,
        content=comment.strip(),
    )
    if by is None or by.pk != repair.user_id:
        label = S(to_status).label
        text = f"您在“{repair.location}”的报修（#{repair.pk}）状态已更新为“{label}”。"
        if comment.strip():
            text += f"\n处理说明：{comment.strip()}"
        if to_status == S.SOLVED:
            text += "\n如问题已解决，请在小程序中确认并评价；如仍有问题，可重新打开。"
            if settings.REPAIRS_AUTO_CLOSE_DAYS > 0:
                text += f"{settings.REPAIRS_AUTO_CLOSE_DAYS} 天内未确认的报修将自动关闭。"
        _notify_reporter(repair, title=f"报修状态更新：{label}", content=text)
    return repair


def repair_requests_autoclose() -> int:
    """Close requests solved ``REPAIRS_AUTO_CLOSE_DAYS`` ago that the reporter neither confirmed
    nor reopened (0 days: never). Each goes through the transition table, so the history and the
    reporter's notice are the same as for a manual close. Returns how many were closed.
    """
    days = settings.REPAIRS_AUTO_CLOSE_DAYS
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    closed = 0
    for repair in RepairRequest.objects.filter(status=S.SOLVED, solved_at__lt=cutoff).order_by("id")[:500]:
        try:
            repair_request_change_status(
                repair=repair, to_status=S.CLOSED, by=None, comment=f"已解决 {days} 天未确认，系统自动关闭。"
            )
        except ApplicationError:
            continue  # changed meanwhile (confirmed or reopened): nothing to do
        closed += 1
    return closed


@transaction.atomic
def repair_request_assign(*, repair: RepairRequest, assignee, by) -> RepairRequest:
    """Set (or clear, with ``None``) who handles the request; only staff may be assignees."""
    repair = _lock(repair)
    if Role.STAFF not in roles_of(user=by, repair=repair):
        raise ApplicationError("只有工作人员可以指派处理人。", code=E.PERMISSION_DENIED, status=403)
    if assignee is not None and not (assignee.is_staff and assignee.is_active):
        raise ApplicationError("处理人必须是有效的工作人员账号。", field="assignee", code=E.INVALID_ASSIGNEE)
    if repair.assignee_id == (assignee.pk if assignee else None):
        return repair
    repair.assignee = assignee
    repair.save(update_fields=["assignee", "updated_at"])
    _event(
        repair,
        actor=by,
        kind=EventKind.ASSIGNED,
        content=f"处理人：{assignee.full_name or assignee.username}" if assignee else "已取消指派",
        is_internal=True,
    )
    return repair


@transaction.atomic
def repair_request_set_category(
    *, repair: RepairRequest, category: FaultCategory | None, by
) -> RepairRequest:
    """Re-categorise a request (staff); its deadline follows the new category's time limit."""
    repair = _lock(repair)
    if Role.STAFF not in roles_of(user=by, repair=repair):
        raise ApplicationError("只有工作人员可以更改分类。", code=E.PERMISSION_DENIED, status=403)
    if repair.category_id == (category.pk if category else None):
        return repair
    old = repair.category.name if repair.category else "未分类"
    repair.category = category
    repair.due_at = selectors.repair_request_due_at(category=category, created_at=repair.created_at)
    repair.save(update_fields=["category", "due_at", "updated_at"])
    _event(
        repair,
        actor=by,
        kind=EventKind.CATEGORY,
        content=f"{old} → {category.name if category else '未分类'}",
        is_internal=True,
    )
    return repair


@transaction.atomic
def repair_request_comment(*, repair: RepairRequest, by, content: str, internal: bool) -> RepairEvent:
    """Staff add a reply (shown to the reporter, who is told) or an internal note (staff only)."""
    content = content.strip()
    if Role.STAFF not in roles_of(user=by, repair=repair):
        raise ApplicationError("只有工作人员可以回复或备注。", code=E.PERMISSION_DENIED, status=403)
    if not content:
        raise ApplicationError("内容不能为空。", field="content", code=E.EMPTY_CONTENT)
    event = _event(
        repair,
        actor=by,
        kind=EventKind.NOTE if internal else EventKind.REPLY,
        content=content,
        is_internal=internal,
    )
    if not internal:
        _notify_reporter(
            repair,
            title="报修有新的回复",
            content=f"您在“{repair.location}”的报修（#{repair.pk}）有新的回复：\n{content}",
        )
    return event


@transaction.atomic
def repair_request_rate(*, repair: RepairRequest, by, rating: int, comment: str = "") -> RepairRequest:
    """The reporter rates a solved (or closed) repair, once."""
    repair = _lock(repair)
    if Role.REPORTER not in roles_of(user=by, repair=repair):
        raise ApplicationError("只有报修人可以评价。", code=E.PERMISSION_DENIED, status=403)
    if repair.status not in (S.SOLVED, S.CLOSED) or repair.solved_at is None:
        raise ApplicationError("报修解决后才能评价。", code=E.NOT_SOLVED)
    if repair.rating is not None:
        raise ApplicationError("您已经评价过这次报修。", code=E.ALREADY_RATED)
    if not 1 <= rating <= 5:
        raise ApplicationError("评分必须是 1 到 5 之间的整数。", field="rating", code=E.INVALID_RATING)
    repair.rating, repair.rating_comment, repair.rated_at = rating, comment.strip(), timezone.now()
    repair.full_clean()
    repair.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    _event(
        repair,
        actor=by,
        kind=EventKind.RATED,
        content=f"{rating} 星" + (f"：{comment.strip()}" if comment.strip() else ""),
    )
    return repair


@transaction.atomic
def repair_request_confirm(
    *, repair: RepairRequest, by, rating: int | None = None, comment: str = ""
) -> RepairRequest:
    """The reporter confirms a solved repair (已解决 → 已关闭), optionally rating it at once."""
    repair = _lock(repair)
    if Role.REPORTER not in roles_of(user=by, repair=repair):
        raise ApplicationError("只有报修人可以确认。", code=E.PERMISSION_DENIED, status=403)
    if repair.status != S.SOLVED:
        raise ApplicationError(f"报修当前为“{S(repair.status).label}”，解决后才能确认。", code=E.NOT_SOLVED)
    repair = repair_request_change_status(repair=repair, to_status=S.CLOSED, by=by)
    if rating is not None:
        repair = repair_request_rate(repair=repair, by=by, rating=rating, comment=comment)
    return repair
