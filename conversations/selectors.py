"""Reads of conversations, shaped for their callers (a constant number of queries per list)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet, Sum

from accounts.models import User
from wechathhu.core.errors import ApplicationError, NotFoundError

from .errors import ConversationsErrorCode as Code
from .models import (
    Conversation,
    ConversationKind,
    ConversationMember,
    ConversationMessage,
    MessageReport,
)

USER_COLUMNS = (
    "id",
    "username",
    "first_name",
    "last_name",
    "avatar",
    "kind",
    "is_staff",
    "is_active",
    "department_id",
    "school_class_id",
    "presence_visibility",
    "last_seen_at",
)


def member_get(*, user: User, conversation_id: int) -> ConversationMember:
    """My membership of the conversation (with it); 404 when I am not in it, whether it exists or not."""
    member = (
        ConversationMember.objects.select_related("conversation")
        .filter(conversation_id=conversation_id, user_id=user.pk)
        .first()
    )
    if member is None:
        raise NotFoundError("会话不存在。", code=Code.NOT_A_MEMBER)
    return member


def membership_list(*, user: User) -> QuerySet[ConversationMember]:
    """My conversations, latest activity first, with the last message and its sender."""
    return (
        ConversationMember.objects.filter(user_id=user.pk)
        .select_related("conversation__last_message__sender")
        .order_by("-last_activity_at", "-id")
    )


def direct_partners(*, user: User, memberships) -> dict[int, User]:
    """The other side of each direct conversation among ``memberships``: one query."""
    ids = [m.conversation_id for m in memberships if m.conversation.kind == ConversationKind.DIRECT]
    if not ids:
        return {}
    rows = (
        ConversationMember.objects.filter(conversation_id__in=ids)
        .exclude(user_id=user.pk)
        .select_related("user")
        .only("conversation_id", *(f"user__{c}" for c in USER_COLUMNS))
    )
    return {row.conversation_id: row.user for row in rows}


def unread_total(*, user: User) -> int:
    """My badge: the sum of my per-conversation counters (no scan of messages)."""
    return (
        ConversationMember.objects.filter(user_id=user.pk, unread_count__gt=0).aggregate(
            total=Sum("unread_count")
        )["total"]
        or 0
    )


def _cursor(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or number > 2**62:
        raise ApplicationError(f"{name} 必须是非负整数（消息的 seq）。", code="invalid", field=name)
    return number


def _limit(value, default: int = 30, maximum: int = 100) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ApplicationError("limit 必须是正整数。", code="invalid", field="limit")
    return min(number, maximum)


def message_page(*, conversation: Conversation, params) -> dict:
    """A page of the history, newest first, by ``seq`` cursor (never OFFSET).

    ``before=N``: the ``limit`` messages just before N; ``after=N``: the ``limit`` messages just
    after N (catching up); neither: the latest. ``has_more`` says whether more lie beyond the page
    in the direction asked (loop on it, not on the page's size)."""
    before = _cursor(params.get("before"), "before")
    after = _cursor(params.get("after"), "after")
    if before is not None and after is not None:
        raise ApplicationError("before 和 after 只能指定一个。", code="invalid", field="before")
    limit = _limit(params.get("limit"))
    rows = (
        ConversationMessage.objects.filter(conversation_id=conversation.pk)
        .select_related("sender")
        .only(
            "id",
            "conversation_id",
            "seq",
            "message_type",
            "text",
            "file",
            "file_name",
            "file_size",
            "content_type",
            "client_id",
            "created_at",
            "recalled_at",
            "sender_id",
            *(f"sender__{c}" for c in ("id", "username", "first_name", "last_name", "avatar")),
        )
    )
    if after is not None:
        found = list(rows.filter(seq__gt=after).order_by("seq")[: limit + 1])
        has_more = len(found) > limit
        found = found[:limit][::-1]
    else:
        if before is not None:
            rows = rows.filter(seq__lt=before)
        found = list(rows.order_by("-seq")[: limit + 1])
        has_more = len(found) > limit
        found = found[:limit]
    return {
        "messages": found,
        "has_more": has_more,
        "oldest_seq": found[-1].seq if found else None,
        "newest_seq": found[0].seq if found else None,
    }


def message_get(*, user: User, conversation_id: int, message_id: int) -> ConversationMessage:
    """A message of a conversation I am in; 404 otherwise."""
    member_get(user=user, conversation_id=conversation_id)
    message = (
        ConversationMessage.objects.select_related("sender")
        .filter(pk=message_id, conversation_id=conversation_id)
        .first()
    )
    if message is None:
        raise NotFoundError("消息不存在。")
    return message


def member_list(*, conversation: Conversation) -> QuerySet[ConversationMember]:
    return (
        ConversationMember.objects.filter(conversation=conversation)
        .select_related("user")
        .only("id", "role", "joined_at", "conversation_id", *(f"user__{c}" for c in USER_COLUMNS))
        .order_by("joined_at", "id")
    )


def report_context(*, report: MessageReport, around: int = 3) -> list[ConversationMessage]:
    """The reported message with up to ``around`` messages either side (what staff may see)."""
    message = report.message
    rows = ConversationMessage.objects.filter(
        conversation_id=message.conversation_id,
        seq__gte=message.seq - around,
        seq__lte=message.seq + around,
    ).select_related("sender")
    return list(rows.order_by("seq"))


def friends_list(*, user: User) -> QuerySet[User]:
    """The people I added as friends (seed 004's 好友列表), in directory order."""
    from accounts.selectors import directory_order

    return directory_order(
        User.objects.filter(friend_of__user_id=user.pk, is_active=True).only(*USER_COLUMNS)
    )


__all__ = [
    "Prefetch",
    "direct_partners",
    "friends_list",
    "member_get",
    "member_list",
    "membership_list",
    "message_get",
    "message_page",
    "report_context",
    "unread_total",
]
