"""Writes of conversations. Invariants:

* one direct conversation per pair (``Conversation.pair_key`` is unique; a start that loses the
  race to the unique key takes the winner's row);
* a send locks the conversation row, takes the next ``seq`` (one order for every member), raises
  every other member's ``unread_count`` with ``F()`` and records the last message, in one
  transaction; a read locks the same row, so the counter it sets is exact however reads and sends
  interleave;
* ``client_id`` makes a send idempotent per sender and conversation: a resend answers the first
  message (checked under the lock, and by a unique constraint).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import SchoolClass, User
from wechathhu.core.errors import ApplicationError, ForbiddenError, NotFoundError

from . import realtime
from .errors import ConversationsErrorCode as Code
from .files import CheckedFile, check_upload
from .models import (
    Conversation,
    ConversationKind,
    ConversationMember,
    ConversationMessage,
    MemberRole,
    MessageKind,
    MessageReport,
    MessagingBan,
    ReportStatus,
    UserBlock,
)
from .rules import REFUSALS, StartPolicy


def _refuse(code: Code, *, status: int = 403, field=None) -> ApplicationError:
    return ApplicationError(REFUSALS[code], code=code, status=status, field=field)


def _bump_on_commit(conversation_id: int, user_ids: list[int] | None = None) -> None:
    """After the commit, raise the event counter of the conversation's members (``user_ids`` when
    the caller already read them under the conversation's lock)."""

    def bump():
        realtime.events_bump(
            user_ids
            if user_ids is not None
            else ConversationMember.objects.filter(conversation_id=conversation_id).values_list(
                "user_id", flat=True
            )
        )

    transaction.on_commit(bump)


# --- Starting conversations ------------------------------------------------------------------


def direct_get_or_create(
    *, user: User, other: User, policy: StartPolicy | None = None
) -> tuple[Conversation, bool]:
    """The direct conversation of ``user`` and ``other``, started when the rules allow it.

    An existing one is answered whoever started it (the rules are checked when it is created;
    writing is checked on each send). Two starts at the same moment give one conversation.
    """
    key = Conversation.pair_key_for(user.pk, other.pk)
    existing = Conversation.objects.filter(pair_key=key).first()
    if existing is not None:
        return existing, False
    policy = policy or StartPolicy(user)
    refusal = policy.start_refusal(other)
    if refusal:
        raise _refuse(refusal, status=400 if refusal in (Code.SELF, Code.USER_INACTIVE) else 403)
    now = timezone.now()
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=ConversationKind.DIRECT, pair_key=key, created_by=user, member_count=2
            )
            ConversationMember.objects.bulk_create(
                [
                    ConversationMember(conversation=conversation, user_id=uid, last_activity_at=now)
                    for uid in (user.pk, other.pk)
                ]
            )
    except IntegrityError:
        # Lost the race on the unique pair key: the winner committed (READ COMMITTED sees it).
        with transaction.atomic():
            return Conversation.objects.select_for_update().get(pair_key=key), False
    return conversation, True


def _class_people(school_class: SchoolClass) -> list[int]:
    ids = list(school_class.students.filter(is_active=True).values_list("pk", flat=True))
    ids += list(school_class.counsellors.filter(is_active=True).values_list("pk", flat=True))
    if school_class.head_teacher_id:
        ids.append(school_class.head_teacher_id)
    return list(dict.fromkeys(ids))


def _check_addable(*, policy: StartPolicy, user_ids: list[int], exclude: set[int]) -> list[int]:
    ids = [uid for uid in dict.fromkeys(user_ids) if uid not in exclude]
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    refused = []
    for uid in ids:
        other = users.get(uid)
        refusal = policy.start_refusal(other)
        if refusal and refusal != Code.MESSAGING_BANNED:
            refused.append((uid, refusal))
    if policy.banned:
        raise _refuse(Code.MESSAGING_BANNED)
    if refused:
        uid, code = refused[0]
        raise ApplicationError(
            f"不能把用户 {uid} 加入群聊：{REFUSALS[code]}",
            code=code,
            status=400 if code in (Code.SELF, Code.USER_INACTIVE) else 403,
            extra={"refused": [u for u, _ in refused]},
        )
    return ids


def group_create(
    *, owner: User, name: str, member_ids: list[int], school_class: SchoolClass | None = None
) -> Conversation:
    """A group of ``owner`` (its owner) and ``member_ids``, each of whom the rules let ``owner``
    start a conversation with; a class group (``school_class``, by its counsellor, head teacher or
    staff) takes in the class's students and counsellors."""
    policy = StartPolicy(owner)
    ids = list(member_ids)
    if school_class is not None:
        if not (owner.is_staff or school_class.pk in policy.managed.class_ids):
            raise ApplicationError(
                "只有班级的辅导员、班主任或职工可以建立班级群。",
                code=Code.NOT_ALLOWED,
                status=403,
                field="class_id",
            )
        ids += _class_people(school_class)
        # The class's own people are in by the class; other members still follow the rules.
        class_people = set(_class_people(school_class))
        others = [uid for uid in member_ids if uid not in class_people]
        _check_addable(policy=policy, user_ids=others, exclude={owner.pk})
        ids = [uid for uid in dict.fromkeys(ids) if uid != owner.pk]
        active = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
        ids = [uid for uid in ids if uid in active]
        if policy.banned:
            raise _refuse(Code.MESSAGING_BANNED)
    else:
        ids = _check_addable(policy=policy, user_ids=ids, exclude={owner.pk})
    limit = settings.CONVERSATIONS_GROUP_MAX_MEMBERS
    if len(ids) + 1 > limit:
        raise ApplicationError(f"群成员不能超过 {limit} 人。", code=Code.GROUP_FULL, field="member_ids")
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=ConversationKind.GROUP,
            name=name or (school_class.name if school_class else "群聊"),
            created_by=owner,
            school_class=school_class,
            member_count=len(ids) + 1,
        )
        ConversationMember.objects.bulk_create(
            [
                ConversationMember(
                    conversation=conversation, user=owner, role=MemberRole.OWNER, last_activity_at=now
                )
            ]
            + [
                ConversationMember(conversation=conversation, user_id=uid, last_activity_at=now)
                for uid in ids
            ]
        )
        _bump_on_commit(conversation.pk)
    return conversation


def _lock_group(conversation: Conversation) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.kind != ConversationKind.GROUP:
        raise ApplicationError("只有群聊可以这样操作。", code=Code.GROUP_ONLY)
    return locked


def _manager(conversation: Conversation, user: User) -> ConversationMember:
    member = ConversationMember.objects.filter(conversation=conversation, user=user).first()
    if member is None:
        raise NotFoundError("会话不存在。", code=Code.NOT_A_MEMBER)
    if not member.is_manager:
        raise ForbiddenError("只有群主和管理员可以管理成员。", code=Code.NOT_A_MANAGER)
    return member


@transaction.atomic
def group_add_members(*, conversation: Conversation, actor: User, user_ids: list[int]) -> list[int]:
    """Add ``user_ids`` (the owner's or an admin's contacts under the rules); those already in are
    skipped. Returns the ids added."""
    conversation = _lock_group(conversation)
    _manager(conversation, actor)
    present = set(
        ConversationMember.objects.filter(conversation=conversation).values_list("user_id", flat=True)
    )
    ids = _check_addable(policy=StartPolicy(actor), user_ids=user_ids, exclude=present)
    limit = settings.CONVERSATIONS_GROUP_MAX_MEMBERS
    if len(present) + len(ids) > limit:
        raise ApplicationError(f"群成员不能超过 {limit} 人。", code=Code.GROUP_FULL, field="member_ids")
    now = timezone.now()
    ConversationMember.objects.bulk_create(
        [
            ConversationMember(
                conversation=conversation,
                user_id=uid,
                last_activity_at=now,
                last_read_seq=conversation.last_seq,
            )
            for uid in ids
        ]
    )
    Conversation.objects.filter(pk=conversation.pk).update(member_count=len(present) + len(ids))
    _bump_on_commit(conversation.pk)
    return ids


@transaction.atomic
def group_remove_member(*, conversation: Conversation, actor: User, user_id: int) -> None:
    """The owner removes anyone but themself; an admin removes ordinary members."""
    conversation = _lock_group(conversation)
    manager = _manager(conversation, actor)
    target = ConversationMember.objects.filter(conversation=conversation, user_id=user_id).first()
    if target is None:
        raise NotFoundError("该用户不在群中。", code=Code.NOT_A_MEMBER)
    if target.role == MemberRole.OWNER or (
        manager.role == MemberRole.ADMIN and target.role == MemberRole.ADMIN
    ):
        raise ForbiddenError("不能移除群主或其他管理员。", code=Code.NOT_A_MANAGER)
    _bump_on_commit(conversation.pk)  # the removed member hears of it too (before the delete commits)
    realtime_ids = [user_id]
    target.delete()
    Conversation.objects.filter(pk=conversation.pk).update(member_count=F("member_count") - 1)
    transaction.on_commit(lambda: realtime.events_bump(realtime_ids))


@transaction.atomic
def group_set_role(*, conversation: Conversation, actor: User, user_id: int, role: str) -> ConversationMember:
    """The owner makes a member an admin or an admin a member again."""
    conversation = _lock_group(conversation)
    manager = _manager(conversation, actor)
    if manager.role != MemberRole.OWNER:
        raise ForbiddenError("只有群主可以设置管理员。", code=Code.NOT_A_MANAGER)
    if role not in (MemberRole.ADMIN, MemberRole.MEMBER):
        raise ApplicationError("角色只能是 admin 或 member。", code="invalid", field="role")
    target = ConversationMember.objects.filter(conversation=conversation, user_id=user_id).first()
    if target is None or target.role == MemberRole.OWNER:
        raise NotFoundError("该用户不在群中。", code=Code.NOT_A_MEMBER)
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def group_leave(*, conversation: Conversation, user: User) -> None:
    """A member leaves; the owner hands the group over first (or removes everyone)."""
    conversation = _lock_group(conversation)
    member = ConversationMember.objects.filter(conversation=conversation, user=user).first()
    if member is None:
        raise NotFoundError("会话不存在。", code=Code.NOT_A_MEMBER)
    if member.role == MemberRole.OWNER and conversation.member_count > 1:
        raise ApplicationError("群主不能退出，请先移除其他成员。", code=Code.OWNER_CANNOT_LEAVE)
    _bump_on_commit(conversation.pk)
    member.delete()
    Conversation.objects.filter(pk=conversation.pk).update(member_count=F("member_count") - 1)


@transaction.atomic
def group_rename(*, conversation: Conversation, actor: User, name: str) -> Conversation:
    conversation = _lock_group(conversation)
    _manager(conversation, actor)
    conversation.name = name
    conversation.save(update_fields=["name", "updated_at"])
    _bump_on_commit(conversation.pk)
    return conversation


# --- Messages ----------------------------------------------------------------------------------


@dataclass
class Outgoing:
    """What is being sent, checked once (a send to many stores the file once)."""

    message_type: str
    text: str = ""
    file: CheckedFile | None = None
    stored_name: str = ""
    owns_file: bool = True  # False for each recipient's share of a send to many

    def store(self) -> None:
        if self.file is not None and not self.stored_name:
            from .models import message_file_path

            self.stored_name = default_storage.save(
                message_file_path(None, f"x.{self.file.ext}"), self.file.upload
            )

    def discard(self) -> None:
        if self.stored_name and self.owns_file:
            default_storage.delete(self.stored_name)
            self.stored_name = ""


def message_prepare(*, message_type: str, text: str = "", upload=None) -> Outgoing:
    """Check what a send carries (400 naming what is wrong)."""
    if message_type not in MessageKind.values:
        raise ApplicationError(
            "message_type 只能是 text、picture 或 file。", code="invalid_choice", field="message_type"
        )
    text = (text or "").strip()
    if message_type == MessageKind.TEXT:
        if not text:
            raise ApplicationError("消息内容不能为空。", code=Code.EMPTY_MESSAGE, field="message")
        limit = settings.CONVERSATIONS_MESSAGE_MAX_LENGTH
        if len(text) > limit:
            raise ApplicationError(f"消息不能超过 {limit} 个字符。", code=Code.TOO_LONG, field="message")
        return Outgoing(message_type=message_type, text=text)
    return Outgoing(message_type=message_type, file=check_upload(upload, message_type))


def _push_offline(
    conversation: Conversation,
    message: ConversationMessage,
    sender: User,
    members: list[tuple[int, bool, int]],
) -> None:
    """One push per conversation per burst to each member who is offline and not pushed since
    their last read (``push_pending``), through the delivery rules. Caller holds the lock and
    read ``members`` (``(user id, push_pending, last_read_seq)``) under it."""
    from messaging.delivery import notify_user

    pending = {uid: last_read for uid, pushed, last_read in members if not pushed and uid != sender.pk}
    if not pending:
        return
    online = realtime.presence_online_ids(pending)
    if online is None:
        online = set()  # the cache is down: everyone counts as offline (a push rather than none)
    offline = [uid for uid in pending if uid not in online]
    if not offline:
        return
    ConversationMember.objects.filter(
        conversation=conversation, user_id__in=offline, push_pending=False
    ).update(push_pending=True)
    who = sender.full_name or sender.username
    title = (
        f"{conversation.name}：{who}"
        if conversation.kind == ConversationKind.GROUP
        else f"{who} 给你发来消息"
    )
    for uid in offline:
        notify_user(
            user_id=uid,
            title=title,
            body=message.preview(),
            url=f"/m/conversations/{conversation.pk}/",
            key=f"conversation:{conversation.pk}:{uid}:{pending[uid]}",
        )


def message_send(
    *,
    conversation: Conversation,
    sender: User,
    outgoing: Outgoing,
    client_id: str | None = None,
    policy: StartPolicy | None = None,
) -> tuple[ConversationMessage, bool]:
    """Send ``outgoing`` in ``conversation``; ``(message, created)``. A resend with the same
    ``client_id`` answers the first message (``created`` False) and stores nothing."""
    policy = policy or StartPolicy(sender)
    if policy.banned:
        raise _refuse(Code.MESSAGING_BANNED)
    if client_id:
        # Outside the lock: a plain resend answers without touching the conversation.
        found = ConversationMessage.objects.filter(
            conversation_id=conversation.pk, sender_id=sender.pk, client_id=client_id
        ).first()
        if found is not None:
            return found, False
    outgoing.store()
    try:
        with transaction.atomic():
            locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
            # The members as they are under the lock (at most the group limit): who is in, who to
            # push, whose events to raise — one read for all three.
            members = list(
                ConversationMember.objects.filter(conversation=locked).values_list(
                    "user_id", "push_pending", "last_read_seq"
                )
            )
            if not any(uid == sender.pk for uid, _, _ in members):
                raise NotFoundError("会话不存在。", code=Code.NOT_A_MEMBER)
            if locked.kind == ConversationKind.DIRECT:
                other_id = next(int(i) for i in locked.pair_key.split(":") if int(i) != sender.pk)
                refusal = policy.write_refusal(other_id)
                if refusal:
                    raise _refuse(refusal)
            if client_id:
                found = ConversationMessage.objects.filter(
                    conversation_id=locked.pk, sender_id=sender.pk, client_id=client_id
                ).first()
                if found is not None:
                    outgoing.discard()
                    return found, False
            now = timezone.now()
            seq = locked.last_seq + 1
            file = outgoing.file
            message = ConversationMessage.objects.create(
                conversation=locked,
                seq=seq,
                sender=sender,
                message_type=outgoing.message_type,
                text=outgoing.text,
                file=outgoing.stored_name,
                file_name=file.name if file else "",
                file_size=file.size if file else 0,
                content_type=file.content_type if file else "",
                client_id=client_id or None,
            )
            Conversation.objects.filter(pk=locked.pk).update(
                last_seq=seq, last_message=message, last_message_at=now, updated_at=now
            )
            ConversationMember.objects.filter(conversation=locked).exclude(user_id=sender.pk).update(
                unread_count=F("unread_count") + 1, last_activity_at=now
            )
            ConversationMember.objects.filter(conversation=locked, user_id=sender.pk).update(
                last_activity_at=now, last_read_seq=seq, unread_count=0, push_pending=False
            )
            _push_offline(locked, message, sender, members)
            _bump_on_commit(locked.pk, [uid for uid, _, _ in members])
    except IntegrityError:
        outgoing.discard()
        if not client_id:
            raise
        # A concurrent resend with the same client_id won the unique constraint.
        return ConversationMessage.objects.get(
            conversation_id=conversation.pk, sender_id=sender.pk, client_id=client_id
        ), False
    except Exception:
        outgoing.discard()
        raise
    return message, True


@dataclass
class SendResult:
    recipient_id: int
    status: str  # delivered | refused
    reason: str | None = None
    message: str | None = None
    conversation_id: int | None = None
    message_id: int | None = None


def send_to_many(
    *, sender: User, recipient_ids: list[int], outgoing: Outgoing, client_id: str | None = None
) -> list[SendResult]:
    """seed 004's 群发: the message in each recipient's direct conversation (created when the
    rules allow), answered per recipient. ``client_id`` applies per conversation."""
    limit = settings.CONVERSATIONS_SEND_MAX_RECIPIENTS
    ids = list(dict.fromkeys(recipient_ids))
    if not ids:
        raise ApplicationError("请至少指定一个接收者。", code="required", field="recipient_ids")
    if len(ids) > limit:
        raise ApplicationError(
            f"一次最多发给 {limit} 人。", code=Code.TOO_MANY_RECIPIENTS, field="recipient_ids"
        )
    policy = StartPolicy(sender)
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    results = []
    outgoing.store()
    try:
        for uid in ids:
            try:
                conversation, _ = direct_get_or_create(
                    user=sender, other=users.get(uid) or _missing(uid), policy=policy
                )
                message, _ = message_send(
                    conversation=conversation,
                    sender=sender,
                    outgoing=_shared(outgoing),
                    client_id=client_id,
                    policy=policy,
                )
            except ApplicationError as exc:
                results.append(SendResult(uid, "refused", reason=exc.code, message=exc.message))
                continue
            results.append(
                SendResult(uid, "delivered", conversation_id=conversation.pk, message_id=message.pk)
            )
    finally:
        if not any(r.status == "delivered" for r in results):
            outgoing.discard()
    return results


def _missing(uid: int) -> User:
    return User(pk=uid, is_active=False)


def _shared(outgoing: Outgoing) -> Outgoing:
    """The same stored file for every recipient, never deleted by one recipient's refusal."""
    return Outgoing(
        message_type=outgoing.message_type,
        text=outgoing.text,
        file=outgoing.file,
        stored_name=outgoing.stored_name,
        owns_file=False,
    )


@transaction.atomic
def message_recall(*, message: ConversationMessage, user: User) -> ConversationMessage:
    """The sender withdraws their message within ``CONVERSATIONS_RECALL_SECONDS``: it shows as
    withdrawn to everyone; its text and file are gone."""
    message = ConversationMessage.objects.select_for_update().get(pk=message.pk)
    if message.sender_id != user.pk:
        raise ForbiddenError("只能撤回自己发送的消息。", code=Code.NOT_THE_SENDER)
    if message.recalled_at is not None:
        raise ApplicationError("消息已撤回。", code=Code.ALREADY_RECALLED)
    window = settings.CONVERSATIONS_RECALL_SECONDS
    if timezone.now() - message.created_at > timedelta(seconds=window):
        raise ApplicationError(f"只能撤回 {window // 60} 分钟内发送的消息。", code=Code.RECALL_EXPIRED)
    stored = message.file.name
    message.recalled_at = timezone.now()
    message.text = ""
    message.file = ""
    message.save(update_fields=["recalled_at", "text", "file"])
    if stored and not ConversationMessage.objects.filter(file=stored).exists():
        transaction.on_commit(lambda: default_storage.delete(stored))
    _bump_on_commit(message.conversation_id)
    return message


def conversation_mark_read(
    *, conversation: Conversation, user: User, seq: int | None = None
) -> ConversationMember:
    """I have seen the messages up to ``seq`` (default: all). The pointer only moves forward; the
    unread count becomes exactly the number of others' messages after it (the conversation row is
    locked, so no send is half-counted)."""
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        member = ConversationMember.objects.select_for_update().filter(conversation=locked, user=user).first()
        if member is None:
            raise NotFoundError("会话不存在。", code=Code.NOT_A_MEMBER)
        target = locked.last_seq if seq is None else min(max(int(seq), 0), locked.last_seq)
        if target > member.last_read_seq:
            member.last_read_seq = target
        member.unread_count = (
            ConversationMessage.objects.filter(conversation=locked, seq__gt=member.last_read_seq)
            .exclude(sender_id=user.pk)
            .count()
        )
        member.push_pending = member.unread_count > 0 and member.push_pending
        member.save(update_fields=["last_read_seq", "unread_count", "push_pending"])
    realtime.events_bump([user.pk])
    return member


# --- Blocks, bans, reports -----------------------------------------------------------------------


def user_block(*, user: User, blocked: User) -> None:
    if blocked.pk == user.pk:
        raise ApplicationError("不能屏蔽自己。", code=Code.SELF)
    UserBlock.objects.get_or_create(blocker=user, blocked=blocked)


def user_unblock(*, user: User, blocked: User) -> None:
    UserBlock.objects.filter(blocker=user, blocked=blocked).delete()


def messaging_ban(*, user: User, by: User | None, reason: str = "") -> MessagingBan:
    ban, _ = MessagingBan.objects.update_or_create(user=user, defaults={"reason": reason, "created_by": by})
    return ban


def messaging_unban(*, user: User) -> None:
    MessagingBan.objects.filter(user=user).delete()


def message_report(*, message: ConversationMessage, reporter: User, reason: str) -> MessageReport:
    """Report a message of a conversation I am in (once per message)."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写举报理由。", code="required", field="reason")
    try:
        with transaction.atomic():
            return MessageReport.objects.create(message=message, reporter=reporter, reason=reason[:500])
    except IntegrityError:
        raise ApplicationError("你已举报过这条消息。", code=Code.ALREADY_REPORTED) from None


@transaction.atomic
def report_handle(*, report: MessageReport, by: User, ban: bool = False) -> MessageReport:
    """Staff close a report: dismissed, or actioned (with ``ban``, the sender is banned)."""
    report.status = ReportStatus.ACTIONED if ban else ReportStatus.DISMISSED
    report.handled_by = by
    report.save(update_fields=["status", "handled_by", "updated_at"])
    if ban and report.message.sender_id:
        messaging_ban(user=report.message.sender, by=by, reason=f"举报 #{report.pk}")
    return report


def new_client_id() -> str:
    return uuid.uuid4().hex


def last_seen_persist(*, user_id: int, seen_at: float) -> int:
    """``User.last_seen_at`` moves forward to ``seen_at`` (epoch seconds); 1 when written."""
    from datetime import UTC, datetime

    from django.db.models import Q

    when = datetime.fromtimestamp(seen_at, tz=UTC)
    return User.objects.filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=when), pk=user_id).update(
        last_seen_at=when
    )
