"""Writes for the message center.

``message_send`` is the entry point other apps use for their notifications (reservation
reminders, waiting-list promotions, repair status changes): it nests safely inside the caller's
transaction (a savepoint), and the publishing step is queued only once the outermost
transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import CampusGroup, Department, SchoolClass, User, UserKind
from accounts.selectors import audience_user_ids
from wechathhu.core.bulk import db_datetime, insert_ignore
from wechathhu.core.errors import ApplicationError, ForbiddenError
from wechathhu.core.services import model_update
from wechathhu.core.tasks import enqueue_on_commit as enqueue_task_on_commit

from . import attachments, audiences, categories, personal_text, polls, search, selectors
from .delivery import deliveries_queue_for_message, deliveries_queue_reminders
from .errors import MessagingErrorCode
from .models import Message, MessagePriority, MessageRecipient, MessageType

UPDATABLE_FIELDS = (
    "title",
    "content",
    "type",
    "priority",
    "is_active",
    "expires_at",
    "published_at",
    "category_id",
    "remind_unread_after_hours",
    "comments_open",
)


def _batch_size() -> int:
    return settings.MESSAGING_RECIPIENT_BATCH_SIZE


def _queue_publish(message: Message) -> None:
    """Run the publishing step after commit if the message is already due (else beat does;
    and beat's ``messaging.publish_due`` also covers a broker outage now)."""
    if message.published_at <= timezone.now():
        enqueue_task_on_commit("messaging.publish_message", message_id=message.pk)


def _arm_reminder(message: Message) -> None:
    """Set when the read-aware second push is due (publish time + the hours), and re-arm its
    step; a global message has no recipient rows to tell readers from, so it gets none."""
    if message.is_global and message.remind_unread_after_hours:
        raise ApplicationError(
            "全局消息不支持未读再提醒（请改为向系所、班级或分组发送）。",
            field="remind_unread_after_hours",
            code=MessagingErrorCode.REMINDER_NOT_ALLOWED,
        )
    hours = message.remind_unread_after_hours
    message.remind_at = message.published_at + timedelta(hours=hours) if hours else None
    message.reminder_processed_at = None


def _write_recipients(*, message: Message, user_ids: list[int]) -> None:
    """Write recipient rows in batches of ``MESSAGING_RECIPIENT_BATCH_SIZE``; existing rows stay.
    Plain tuples through INSERT IGNORE (``wechathhu.core.bulk``): a 10 000-user send spent most of
    its time in ``bulk_create`` turning instances into SQL."""
    stamp = db_datetime(timezone.now())
    insert_ignore(
        MessageRecipient,
        ("created_at", "updated_at", "message", "recipient"),
        [(stamp, stamp, message.pk, user_id) for user_id in user_ids],
        batch_size=_batch_size(),
    )


@transaction.atomic
def message_send(
    *,
    sender=None,
    title: str,
    content: str = "",
    type: str = "notification",  # noqa: A002 - seed 001's field name
    priority: str = "normal",
    recipient_ids=(),
    department_ids=(),
    class_ids=(),
    group_ids=(),
    kinds=(),
    is_global: bool = False,
    published_at=None,
    expires_at=None,
    category_id: int | None = None,
    remind_unread_after_hours: int | None = None,
    comments_open: bool | None = None,
) -> Message:
    """Send a message (``sender=None``: a system message) and return it.

    ``comments_open`` defaults to open for a person's message and closed for a system message.

    A global message writes no per-user rows. A targeted one resolves its audience once, here,
    with the directory's resolver (active users only, duplicates removed) and writes one recipient
    row per user in batches. An audience that resolves to nobody is not an error here: the
    message is kept with ``audience_size`` 0, so a caller's transaction is never broken by it.
    """
    kinds = sorted(set(kinds))
    unknown_kinds = set(kinds) - set(UserKind.values)
    if unknown_kinds:
        raise ApplicationError(
            f"未知的身份：{'、'.join(sorted(unknown_kinds))}。",
            field="kinds",
            code=MessagingErrorCode.INVALID_KIND,
        )
    message = Message(
        sender=sender,
        title=title,
        content=content,
        type=type,
        priority=priority,
        is_global=is_global,
        published_at=published_at or timezone.now(),
        expires_at=expires_at,
        audience_kinds=[] if is_global else kinds,
        audience_user_ids=[] if is_global else sorted(set(recipient_ids)),
        category_id=category_id,
        remind_unread_after_hours=remind_unread_after_hours,
        comments_open=sender is not None if comments_open is None else comments_open,
    )
    _arm_reminder(message)
    user_ids = []
    if not is_global:
        # Resolved before the message is written, so it is written with its size (no UPDATE).
        audience = audience_user_ids(
            user_ids=recipient_ids,
            department_ids=department_ids,
            class_ids=class_ids,
            group_ids=group_ids,
            kinds=kinds,
        )
        user_ids = list(audience)  # distinct: a new message has no rows to conflict with
        message.audience_size = len(user_ids)
    message.full_clean()
    message.save()
    search.message_index(message=message)
    if not is_global:
        if department_ids:
            message.audience_departments.set(department_ids)
        if class_ids:
            message.audience_classes.set(class_ids)
        if group_ids:
            message.audience_groups.set(group_ids)
        _write_recipients(message=message, user_ids=user_ids)
    _queue_publish(message)
    return message


def _missing_ids(model, ids) -> list[int]:
    ids = set(ids)
    if not ids:
        return []
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return sorted(ids - found)


def _check_exist(*, recipient_ids=(), department_ids=(), class_ids=(), group_ids=()) -> None:
    for field, model, ids, label in (
        ("recipient_ids", User, recipient_ids, "用户"),
        ("department_ids", Department, department_ids, "系所"),
        ("class_ids", SchoolClass, class_ids, "班级"),
        ("group_ids", CampusGroup, group_ids, "分组"),
    ):
        missing = _missing_ids(model, ids)
        if missing:
            raise ApplicationError(
                f"以下{label}不存在：{', '.join(map(str, missing))}。",
                field=field,
                code=MessagingErrorCode.UNKNOWN_RECIPIENTS,
            )


def message_create_check(
    *,
    sender: User,
    recipient_ids=(),
    department_ids=(),
    class_ids=(),
    group_ids=(),
    kinds=(),
    is_global: bool = False,
) -> None:
    """The rules of composing, in one place (``message_create`` applies them; the admin's compose
    form calls this to show them on the form): who may send to what is ``messaging.audiences``'
    rule (403 naming what is out of reach); unknown ids are a 400 naming them; a targeted message
    names an audience.
    """
    scope = audiences.sender_scope(user=sender)
    if not scope.can_send:
        raise ForbiddenError("您没有发送消息的权限。", code=MessagingErrorCode.SEND_NOT_ALLOWED)
    if is_global and not scope.can_send_global:
        raise ForbiddenError("您没有发送全局消息的权限。", code=MessagingErrorCode.GLOBAL_NOT_ALLOWED)
    if is_global:
        return
    if not (recipient_ids or department_ids or class_ids or group_ids or kinds):
        raise ApplicationError(
            "请指定接收者（recipient_ids、department_ids、class_ids、group_ids 或 kinds），或发送全局消息。",
            field="recipient_ids",
            code=MessagingErrorCode.NO_RECIPIENTS,
        )
    _check_exist(
        recipient_ids=recipient_ids,
        department_ids=department_ids,
        class_ids=class_ids,
        group_ids=group_ids,
    )
    audiences.audience_check(
        scope=scope,
        recipient_ids=recipient_ids,
        department_ids=department_ids,
        class_ids=class_ids,
        group_ids=group_ids,
        kinds=kinds,
    )


def message_audience_reaches_nobody(
    *, recipient_ids=(), department_ids=(), class_ids=(), group_ids=(), kinds=()
) -> bool:
    """Whether a targeted audience resolves to no active user (what ``message_create`` refuses
    after resolving it; the admin's form asks before sending)."""
    return not audience_user_ids(
        user_ids=recipient_ids,
        department_ids=department_ids,
        class_ids=class_ids,
        group_ids=group_ids,
        kinds=kinds,
    ).exists()


NO_ACTIVE_RECIPIENTS = "所选范围内没有可接收消息的用户（已停用的账号不会收到消息）。"


@transaction.atomic
def message_create(
    *,
    sender: User,
    title: str,
    content: str = "",
    type: str = MessageType.NOTIFICATION,  # noqa: A002 - seed 001's field name
    priority: str = MessagePriority.NORMAL,
    recipient_ids=(),
    department_ids=(),
    class_ids=(),
    group_ids=(),
    kinds=(),
    is_global: bool = False,
    published_at: datetime | None = None,
    expires_at: datetime | None = None,
    category_id: int | None = None,
    remind_unread_after_hours: int | None = None,
    comments_open: bool = True,
    poll: dict | None = None,
) -> Message:
    """A message composed by a person (API, admin, phone pages), after ``message_create_check``.

    ``comments_open`` lets its readers comment and ask privately; ``poll`` (``polls.poll_clean``'s
    arguments) attaches a poll, in the same transaction.
    """
    message_create_check(
        sender=sender,
        recipient_ids=recipient_ids,
        department_ids=department_ids,
        class_ids=class_ids,
        group_ids=group_ids,
        kinds=kinds,
        is_global=is_global,
    )
    message = message_send(
        sender=sender,
        title=title,
        content=content,
        type=type,
        priority=priority,
        recipient_ids=recipient_ids,
        department_ids=department_ids,
        class_ids=class_ids,
        group_ids=group_ids,
        kinds=kinds,
        is_global=is_global,
        published_at=published_at,
        expires_at=expires_at,
        category_id=categories.category_for_message(category_id=category_id),
        remind_unread_after_hours=remind_unread_after_hours,
        comments_open=comments_open,
    )
    if poll:
        polls.poll_create(message=message, **poll)
    if not is_global and message.audience_size == 0:
        raise ApplicationError(
            NO_ACTIVE_RECIPIENTS,
            field="recipient_ids",
            code=MessagingErrorCode.NO_RECIPIENTS,
        )
    return message


@transaction.atomic
def message_update(*, message: Message, data: dict) -> Message:
    """Change a message's text, type, priority, schedule, expiry or active flag.

    Moving ``published_at`` re-arms the publishing step, so a global message's audience is
    counted again at its new publish time.
    """
    message = Message.objects.select_for_update().get(pk=message.pk)
    old_published_at = message.published_at
    if "published_at" in data and data["published_at"] is None:
        data = {**data, "published_at": old_published_at}
    if "category_id" in data:
        categories.category_for_message(category_id=data["category_id"], current_id=message.category_id)
    old_reminder = message.remind_unread_after_hours
    old_text = (message.title, message.content)
    changed = model_update(instance=message, fields=UPDATABLE_FIELDS, data=data)
    if changed and (message.title, message.content) != old_text:
        search.message_index(message=message)
        personal_text.personal_texts_refresh(message=message)
    if changed and (message.published_at, message.remind_unread_after_hours) != (
        old_published_at,
        old_reminder,
    ):
        _arm_reminder(message)
        message.save(update_fields=["remind_at", "reminder_processed_at"])
    if changed and message.published_at != old_published_at:
        message.publish_processed_at = None
        message.save(update_fields=["publish_processed_at"])
        _queue_publish(message)
    return message


@transaction.atomic
def message_delete(*, message: Message) -> None:
    """Delete a message with its recipient and delivery rows, and its attachments' files."""
    attachments.attachment_files_delete_on_commit(message=message)
    message.delete()


@transaction.atomic
def message_add_recipients(*, message: Message, recipient_ids, by: User | None = None) -> int:
    """Address a targeted message to more users; those already addressed are skipped.

    Returns the number of users added. Inactive users are not addressed (as at send time). ``by``
    (the person adding them) must be allowed to send to them (``messaging.audiences``), and the
    message must not come to cover every active user without the global right.
    """
    if message.is_global:
        raise ApplicationError(
            "全局消息已发送给所有用户，无需添加接收者。",
            field="recipient_ids",
            code=MessagingErrorCode.GLOBAL_HAS_NO_RECIPIENTS,
        )
    _check_exist(recipient_ids=recipient_ids)
    message = Message.objects.select_for_update().get(pk=message.pk)
    if by is not None:
        scope = audiences.sender_scope(user=by)
        audiences.audience_check(scope=scope, recipient_ids=recipient_ids)
        if not scope.can_send_global:
            current = MessageRecipient.objects.filter(message=message).values("recipient_id")
            if audiences.audience_covers_everyone(current, sorted(set(recipient_ids))):
                raise ForbiddenError(
                    "添加后接收者将包含全部用户，相当于全局消息，需要“可以发送全局消息”的权限。",
                    code=MessagingErrorCode.GLOBAL_NOT_ALLOWED,
                )
    _write_recipients(message=message, user_ids=list(audience_user_ids(user_ids=recipient_ids)))
    personal_text.personal_texts_add(message=message)
    size = MessageRecipient.objects.filter(message=message).count()
    added = size - message.audience_size
    message.audience_size = size
    message.save(update_fields=["audience_size", "updated_at"])
    return added


# --- Engagement ---------------------------------------------------------------------------------


def _ensure_state_rows(*, user: User, message_ids: list[int]) -> None:
    """Create the user's state rows for global messages (fan-out on read); existing rows stay.

    The user's row is locked first so that two requests of the same user (two devices, a double
    tap) queue instead of deadlocking on the duplicate-key locks of ``INSERT IGNORE`` followed by
    the ``UPDATE``. Different users never wait for each other. Must run inside a transaction.
    """
    if message_ids:
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
        MessageRecipient.objects.bulk_create(
            [MessageRecipient(message_id=pk, recipient=user) for pk in message_ids], ignore_conflicts=True
        )


@transaction.atomic
def message_mark_read(*, user: User, message_ids) -> int:
    """Mark messages read for ``user``; ids the user cannot see are ignored. Returns rows changed."""
    visible = selectors.message_visible_ids_for_user(user=user, message_ids=message_ids)
    if not visible:
        return 0
    _ensure_state_rows(user=user, message_ids=[pk for pk, is_global in visible if is_global])
    now = timezone.now()
    return MessageRecipient.objects.filter(
        recipient=user, message_id__in=[pk for pk, _ in visible], read_at__isnull=True
    ).update(read_at=now, updated_at=now)


@transaction.atomic
def message_archive(*, user: User, message_ids) -> int:
    """Archive messages for ``user`` (an archived message also counts as read).

    Ids the user cannot see are ignored. Returns rows changed.
    """
    visible = selectors.message_visible_ids_for_user(user=user, message_ids=message_ids)
    if not visible:
        return 0
    _ensure_state_rows(user=user, message_ids=[pk for pk, is_global in visible if is_global])
    now = timezone.now()
    return MessageRecipient.objects.filter(
        recipient=user, message_id__in=[pk for pk, _ in visible], archived_at__isnull=True
    ).update(
        archived_at=now,
        read_at=Coalesce("read_at", Value(now, output_field=MessageRecipient._meta.get_field("read_at"))),
        updated_at=now,
    )


# --- Publishing and admin actions ---------------------------------------------------------------


@transaction.atomic
def message_publish(*, message_id: int) -> bool:
    """The publishing step of a due message, done once (marker: ``publish_processed_at``).

    For a global message it records the read-rate denominator: the users active now. Returns
    whether anything was done (False for a message not yet due, withdrawn, or already processed).
    """
    now = timezone.now()
    message = (
        Message.objects.select_for_update()
        .filter(pk=message_id, publish_processed_at__isnull=True, published_at__lte=now, is_active=True)
        .first()
    )
    if message is None:
        return False
    if message.is_global:
        message.audience_size = User.objects.filter(is_active=True).count()
    message.publish_processed_at = now
    message.save(update_fields=["audience_size", "publish_processed_at"])
    deliveries_queue_for_message(message=message)
    return True


@transaction.atomic
def message_send_reminder(*, message_id: int) -> int:
    """The reminder step of one message, done once (marker: ``reminder_processed_at``): a second
    push to the recipients who have not read it yet. Returns the rows written (0 when it is not
    due, already done, withdrawn or expired)."""
    now = timezone.now()
    message = (
        Message.objects.select_for_update()
        .filter(pk=message_id, reminder_processed_at__isnull=True, remind_at__lte=now, is_active=True)
        .first()
    )
    if message is None:
        return 0
    message.reminder_processed_at = now
    message.save(update_fields=["reminder_processed_at"])
    if message.is_expired or message.publish_processed_at is None:
        return 0
    return deliveries_queue_reminders(message=message)


def message_ids_due_for_reminders(*, limit: int) -> list[int]:
    return list(
        Message.objects.filter(
            reminder_processed_at__isnull=True, remind_at__lte=timezone.now(), is_active=True
        )
        .order_by("remind_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def message_ids_due_for_publishing(*, limit: int) -> list[int]:
    now = timezone.now()
    return list(
        Message.objects.filter(publish_processed_at__isnull=True, published_at__lte=now, is_active=True)
        .order_by("published_at", "id")
        .values_list("id", flat=True)[:limit]
    )


@transaction.atomic
def message_withdraw(*, message: Message) -> Message:
    """Withdraw a message: it disappears from every inbox; nothing is deleted."""
    model_update(instance=message, fields=("is_active",), data={"is_active": False})
    return message


@transaction.atomic
def message_republish(*, message: Message) -> Message:
    """Publish a withdrawn message again, now (it comes back on top of the inboxes)."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    now = timezone.now()
    if message.expires_at is not None and message.expires_at <= now:
        raise ApplicationError(
            "消息已过期，请先修改过期时间再重新发布。", field="expires_at", code=MessagingErrorCode.EXPIRED
        )
    message.is_active = True
    message.published_at = now
    message.publish_processed_at = None
    message.full_clean()
    message.save(update_fields=["is_active", "published_at", "publish_processed_at", "updated_at"])
    _queue_publish(message)
    return message
