"""Comments and private questions on a message (issue 20 item 3): who sees what, and the writes.

Who takes part:

* a **reader** is anyone who can see the message (``selectors.message_get_for_user``: addressed to
  them or global, published, not withdrawn or expired);
* a **moderator** is the message's sender or a message-center administrator
  (``selectors.messages_of_sender``); they see every comment (hidden ones flagged) and every private
  question, answer with ``reply_to`` and hide or unhide comments.

Anyone else gets 404 for the message, never its comments. A reader sees the public comments that are
not hidden, their own private questions, and the answers in the threads they see. Replies are the
moderators' (answers), always attached to the thread's first comment and as private as it.

``Message.comment_count`` counts the visible public thread heads (replies, private questions and
hidden comments are not counted): a counter kept here with ``F()``, so message lists never count.
The sender hears of new private questions through the delivery rules (``notify_user``), one notice
per message per hour however many arrive; the asker hears of the answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from wechathhu.core.errors import ApplicationError, ForbiddenError, NotFoundError

from . import selectors
from .delivery import notify_user
from .errors import MessagingErrorCode
from .models import COMMENT_MAX_LENGTH, Message, MessageComment

COMMENT_NOT_FOUND = "评论不存在。"
NOTICE_WINDOW_SECONDS = 3600  # one private-question notice per message per hour


# --- Who may take part ---------------------------------------------------------------------------


def message_get_for_discussion(*, user: User, message_id: int) -> Message:
    """The message, if ``user`` may see its comments; ``message.is_moderator`` says whether they may
    answer and hide (its sender or a message-center administrator). Anyone else: 404."""
    message = (
        selectors.messages_of_sender(user=user)
        .select_related("sender", "category")
        .filter(pk=message_id)
        .first()
    )
    if message is not None:
        message.is_moderator = True
        return message
    message = selectors.message_get_for_user(user=user, message_id=message_id)
    message.is_moderator = False
    return message


def _visible_to(user: User, *, is_moderator: bool) -> Q:
    if is_moderator:
        return Q()
    return Q(hidden_at__isnull=True) & (Q(is_private=False) | Q(private_to=user))


# --- Reads ---------------------------------------------------------------------------------------


def comment_list(*, message: Message, user: User, private: bool | None = None) -> QuerySet[MessageComment]:
    """The threads of ``message`` that ``user`` may see, newest first, each with its visible replies
    (oldest first) as ``visible_replies``: three queries a page (count, page, replies), whatever its
    size. ``private`` narrows to private questions (True) or public comments (False)."""
    visible = _visible_to(user, is_moderator=getattr(message, "is_moderator", False))
    replies = MessageComment.objects.filter(visible).select_related("author").order_by("id")
    queryset = (
        MessageComment.objects.filter(visible, message=message, is_answer=False)
        .select_related("author")
        .prefetch_related(Prefetch("replies", queryset=replies, to_attr="visible_replies"))
        .order_by("-id")
    )
    if private is not None:
        queryset = queryset.filter(is_private=private)
    return queryset


def open_questions(*, message: Message) -> QuerySet[MessageComment]:
    """The private questions of ``message`` nobody has answered yet (the sender's to-do), oldest first."""
    return (
        MessageComment.objects.filter(
            message=message,
            is_private=True,
            is_answer=False,
            answered_at__isnull=True,
            hidden_at__isnull=True,
        )
        .select_related("author")
        .order_by("id")
    )


def with_open_question_count(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """Each message with ``open_question_count``, its private questions awaiting an answer (one
    subquery: a sender's list shows what to answer without a query per message)."""
    open_ones = (
        MessageComment.objects.filter(selectors.question_awaiting_q(), message=OuterRef("pk"))
        .order_by()
        .values("message")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(
        open_question_count=Coalesce(Subquery(open_ones, output_field=IntegerField()), 0)
    )


# --- Writes --------------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ApplicationError("评论内容不能为空。", field="body", code=MessagingErrorCode.INVALID_COMMENT)
    if len(body) > COMMENT_MAX_LENGTH:
        raise ApplicationError(
            f"评论内容不能超过 {COMMENT_MAX_LENGTH} 字（现在 {len(body)} 字）。",
            field="body",
            code=MessagingErrorCode.INVALID_COMMENT,
        )
    return body


def _notice_key(message: Message) -> str:
    window = int(timezone.now().timestamp()) // NOTICE_WINDOW_SECONDS
    return f"message-question:{message.pk}:{window}"


def _sent_page(message: Message) -> str:
    return f"/m/sent/{message.pk}/#questions"


@transaction.atomic
def comment_create(
    *, message: Message, user: User, body: str, private: bool = False, reply_to_id: int | None = None
) -> MessageComment:
    """A comment, a private question (``private``) or, by a moderator, an answer (``reply_to_id``).

    ``message`` comes from ``message_get_for_discussion`` (it carries ``is_moderator``). New threads
    need the message's comments open; answers do not (a sender may close comments and still answer).
    """
    body = _clean_body(body)
    is_moderator = getattr(message, "is_moderator", False)
    now = timezone.now()
    if reply_to_id is not None:
        if not is_moderator:
            raise ForbiddenError(
                "只有消息的发送者或消息中心管理员可以回复。", code=MessagingErrorCode.REPLY_NOT_ALLOWED
            )
        parent = MessageComment.objects.filter(pk=reply_to_id, message=message).first()
        if parent is None:
            raise ApplicationError(
                "要回复的评论不存在（或不属于这条消息）。",
                field="reply_to",
                code=MessagingErrorCode.REPLY_NOT_ALLOWED,
            )
        # Answers hang on the thread's first comment, and the lock there orders concurrent answers.
        root = MessageComment.objects.select_for_update().get(pk=parent.reply_to_id or parent.pk)
        if root.hidden_at is not None:
            raise ApplicationError(
                "不能回复已隐藏的评论。", field="reply_to", code=MessagingErrorCode.REPLY_NOT_ALLOWED
            )
        comment = MessageComment(
            message=message,
            author=user,
            body=body,
            reply_to=root,
            is_answer=True,
            is_private=root.is_private,
            private_to_id=root.private_to_id,
        )
        comment.full_clean()
        comment.save()
        if root.answered_at is None:
            root.answered_at = now
            root.save(update_fields=["answered_at", "updated_at"])
        if root.author_id != user.pk:
            notify_user(
                user_id=root.author_id,
                title=f"您的{'提问' if root.is_private else '评论'}有了回复：{message.title}"[:200],
                body=body[:200],
                url=settings.MESSAGING_PAGE_PATH.format(id=message.pk) + "#comments",
                key=f"message-answer:{root.pk}:{comment.pk}",
            )
        return comment

    if not message.comments_open:
        raise ApplicationError("这条消息没有开放评论和提问。", code=MessagingErrorCode.COMMENTS_CLOSED)
    if private and message.sender_id == user.pk:
        raise ApplicationError(
            "发送者不能向自己提问；公开评论请不要勾选私密。",
            field="private",
            code=MessagingErrorCode.INVALID_COMMENT,
        )
    comment = MessageComment(
        message=message, author=user, body=body, is_private=private, private_to=user if private else None
    )
    comment.full_clean()
    comment.save()
    if private:
        if message.sender_id is not None:
            notify_user(
                user_id=message.sender_id,
                title=f"新的私密提问：{message.title}"[:200],
                body="您发送的消息收到了私密提问，请在“我发的消息”中查看并回答。",
                url=_sent_page(message),
                key=_notice_key(message),
            )
    else:
        Message.objects.filter(pk=message.pk).update(comment_count=F("comment_count") + 1)
    return comment


def _comment_for_moderation(*, message: Message, comment_id: int) -> MessageComment:
    if not getattr(message, "is_moderator", False):
        raise ForbiddenError(
            "只有消息的发送者或消息中心管理员可以隐藏评论。", code=MessagingErrorCode.MODERATION_NOT_ALLOWED
        )
    comment = MessageComment.objects.select_for_update().filter(pk=comment_id, message=message).first()
    if comment is None:
        raise NotFoundError(COMMENT_NOT_FOUND)
    return comment


def _counts(comment: MessageComment) -> bool:
    """Whether ``comment`` is one ``Message.comment_count`` counts when visible."""
    return not comment.is_private and comment.reply_to_id is None


@transaction.atomic
def comment_hide(*, message: Message, comment_id: int, by: User) -> MessageComment:
    """Hide a comment: gone for everyone but moderators, kept for audit. Hiding twice is harmless."""
    comment = _comment_for_moderation(message=message, comment_id=comment_id)
    if comment.hidden_at is None:
        comment.hidden_at = timezone.now()
        comment.hidden_by = by
        comment.save(update_fields=["hidden_at", "hidden_by", "updated_at"])
        if _counts(comment):
            Message.objects.filter(pk=message.pk, comment_count__gt=0).update(
                comment_count=F("comment_count") - 1
            )
    return comment


@transaction.atomic
def comment_unhide(*, message: Message, comment_id: int, by: User) -> MessageComment:
    """Show a hidden comment again. Unhiding a visible one is harmless."""
    comment = _comment_for_moderation(message=message, comment_id=comment_id)
    if comment.hidden_at is not None:
        comment.hidden_at = None
        comment.hidden_by = None
        comment.save(update_fields=["hidden_at", "hidden_by", "updated_at"])
        if _counts(comment):
            Message.objects.filter(pk=message.pk).update(comment_count=F("comment_count") + 1)
    return comment


@transaction.atomic
def comment_set_hidden_bulk(*, comments, hidden: bool, by: User) -> int:
    """The admin's hide/unhide actions: each comment through the same service, as a moderator of
    its own message (the admin's queryset holds only comments ``by`` may moderate)."""
    done = 0
    for comment in comments:
        message = comment.message
        message.is_moderator = True
        before = comment.hidden_at is not None
        action = comment_hide if hidden else comment_unhide
        after = action(message=message, comment_id=comment.pk, by=by).hidden_at is not None
        done += before != after
    return done
