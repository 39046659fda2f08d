"""Polls on messages (issue 20 item 5): creating one with its message, voting, results, who voted.

A poll has a question, 2–20 options, single or multiple choice (with a maximum), may be anonymous,
may close at a time, and may forbid changing a vote. One vote per person is a constraint
(``PollVote``); every vote takes the poll's row lock first, so concurrent votes (of many people, or
one person on two devices) queue on it and the option counters (``PollOption.vote_count``,
``Poll.voter_count``) are updated once per vote, never twice.

Results are read from the counters: the share of each option is its votes over the number of
voters (so a multiple-choice poll's shares may add up to more than 100 %).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from wechathhu.core.errors import ApplicationError, ForbiddenError, NotFoundError

from .errors import MessagingErrorCode
from .models import Message, Poll, PollOption, PollVote

MIN_OPTIONS = 2
MAX_OPTIONS = 20
QUESTION_MAX_LENGTH = Poll._meta.get_field("question").max_length
OPTION_MAX_LENGTH = PollOption._meta.get_field("text").max_length
NO_POLL = "这条消息没有投票。"


def _invalid(message: str, field: str = "poll") -> ApplicationError:
    return ApplicationError(message, field=field, code=MessagingErrorCode.INVALID_POLL)


# --- Creating a poll with its message ----------------------------------------------------------------


def poll_clean(
    *,
    question: str,
    options,
    multiple: bool = False,
    max_choices: int | None = None,
    anonymous: bool = False,
    allow_change: bool = True,
    closes_at: datetime | None = None,
) -> dict:
    """A poll's settings checked and normalised (every door's one rule); raises a 400 naming what is
    wrong. ``max_choices`` defaults to every option for a multiple-choice poll, 1 otherwise."""
    question = (question or "").strip()
    if not question:
        raise _invalid("请填写投票问题。")
    if len(question) > QUESTION_MAX_LENGTH:
        raise _invalid(f"投票问题不能超过 {QUESTION_MAX_LENGTH} 字。")
    texts = [str(o).strip() for o in (options or []) if str(o).strip()]
    if len(texts) < MIN_OPTIONS or len(texts) > MAX_OPTIONS:
        raise _invalid(f"投票选项须为 {MIN_OPTIONS}–{MAX_OPTIONS} 个（现在 {len(texts)} 个）。")
    too_long = [t for t in texts if len(t) > OPTION_MAX_LENGTH]
    if too_long:
        raise _invalid(f"每个选项不能超过 {OPTION_MAX_LENGTH} 字：“{too_long[0][:20]}…”。")
    if len(set(texts)) != len(texts):
        raise _invalid("投票选项不能重复。")
    if multiple:
        max_choices = len(texts) if max_choices in (None, "") else max_choices
        if not 2 <= max_choices <= len(texts):
            raise _invalid(f"多选投票最多可选的项数须在 2 到选项数（{len(texts)}）之间。")
    else:
        if max_choices not in (None, "", 1):
            raise _invalid("单选投票最多只能选 1 项；要选多项请设为多选。")
        max_choices = 1
    if closes_at is not None and closes_at <= timezone.now():
        raise _invalid("投票截止时间必须晚于现在。")
    return {
        "question": question,
        "options": texts,
        "multiple": bool(multiple),
        "max_choices": max_choices,
        "anonymous": bool(anonymous),
        "allow_change": bool(allow_change),
        "closes_at": closes_at,
    }


@transaction.atomic
def poll_create(*, message: Message, **spec) -> Poll:
    """Attach a poll to a new message (``spec`` as ``poll_clean`` takes it)."""
    spec = poll_clean(**spec)
    if (
        message.expires_at is not None
        and spec["closes_at"] is not None
        and spec["closes_at"] > message.expires_at
    ):
        raise _invalid("投票截止时间不能晚于消息的过期时间。")
    texts = spec.pop("options")
    poll = Poll(message=message, **spec)
    poll.full_clean()
    poll.save()
    PollOption.objects.bulk_create(
        [PollOption(poll=poll, position=i, text=text) for i, text in enumerate(texts, start=1)]
    )
    return poll


# --- Voting --------------------------------------------------------------------------------------------


@transaction.atomic
def poll_vote(*, message: Message, user: User, option_ids) -> Poll:
    """Cast or change ``user``'s vote on ``message``'s poll (a message they can see).

    Takes the poll's row lock first: concurrent votes queue there, so each is counted once and a
    person's two simultaneous votes become a vote and a change (or a refused change). Closed polls
    and forbidden changes are 400s; so are options of another poll, none, or too many.
    """
    poll = Poll.objects.select_for_update().filter(message=message).first()
    if poll is None:
        raise NotFoundError(NO_POLL, code=MessagingErrorCode.NO_POLL)
    if poll.is_closed:
        raise ApplicationError("投票已截止。", code=MessagingErrorCode.POLL_CLOSED)
    chosen = sorted(set(option_ids or ()))
    if not chosen:
        raise ApplicationError("请至少选择一项。", field="option_ids", code=MessagingErrorCode.INVALID_VOTE)
    if len(chosen) > poll.max_choices:
        raise ApplicationError(
            "这是单选投票，只能选 1 项。" if not poll.multiple else f"最多只能选 {poll.max_choices} 项。",
            field="option_ids",
            code=MessagingErrorCode.INVALID_VOTE,
        )
    valid = set(PollOption.objects.filter(poll=poll, pk__in=chosen).values_list("pk", flat=True))
    unknown = [pk for pk in chosen if pk not in valid]
    if unknown:
        raise ApplicationError(
            f"以下选项不属于这个投票：{', '.join(map(str, unknown))}。",
            field="option_ids",
            code=MessagingErrorCode.INVALID_VOTE,
        )
    vote = PollVote.objects.filter(poll=poll, voter=user).first()
    if vote is None:
        vote = PollVote.objects.create(poll=poll, voter=user)
        vote.options.set(chosen)
        PollOption.objects.filter(pk__in=chosen).update(vote_count=F("vote_count") + 1)
        Poll.objects.filter(pk=poll.pk).update(voter_count=F("voter_count") + 1)
        Message.objects.filter(pk=poll.message_id).update(vote_count=F("vote_count") + 1)
    else:
        if not poll.allow_change:
            raise ApplicationError(
                "您已投过票，这个投票不允许修改选择。", code=MessagingErrorCode.VOTE_CHANGE_NOT_ALLOWED
            )
        before = set(vote.options.values_list("pk", flat=True))
        added, removed = set(chosen) - before, before - set(chosen)
        if added or removed:
            vote.options.set(chosen)
            PollOption.objects.filter(pk__in=added).update(vote_count=F("vote_count") + 1)
            PollOption.objects.filter(pk__in=removed, vote_count__gt=0).update(vote_count=F("vote_count") - 1)
            vote.save(update_fields=["updated_at"])
    poll.refresh_from_db()
    return poll


# --- Reads ---------------------------------------------------------------------------------------------


def with_poll(queryset: QuerySet[Message], user: User | None) -> QuerySet[Message]:
    """Messages shaped for every message shape's ``poll``: the poll joined in the same query, and for
    the page's polls (if any) their options and ``user``'s own vote (``poll.my_votes``) — no extra
    query for a page without polls, a constant number for one with them."""
    prefetches: list = ["poll__options"]
    if user is not None and user.is_authenticated:
        prefetches.append(
            Prefetch(
                "poll__votes",
                queryset=PollVote.objects.filter(voter=user).prefetch_related("options"),
                to_attr="my_votes",
            )
        )
    return queryset.select_related("poll").prefetch_related(*prefetches)


def poll_of(message: Message) -> Poll | None:
    try:
        return message.poll
    except Poll.DoesNotExist:
        return None


def _percentage(votes: int, voters: int) -> float:
    return round(votes * 100 / voters, 1) if voters else 0.0


def poll_results(poll: Poll, *, user: User | None = None) -> dict:
    """The poll as every message shape shows it: settings, counts and shares, and my own choice
    (from ``with_poll``, or looked up for ``user`` when not prefetched)."""
    my_votes = getattr(poll, "my_votes", None)
    if my_votes is None:
        my_votes = (
            list(PollVote.objects.filter(poll=poll, voter=user).prefetch_related("options"))
            if user is not None and user.is_authenticated
            else []
        )
    mine = sorted(o.pk for v in my_votes for o in v.options.all())
    closed = poll.is_closed
    return {
        "id": poll.pk,
        "question": poll.question,
        "multiple": poll.multiple,
        "max_choices": poll.max_choices,
        "anonymous": poll.anonymous,
        "allow_change": poll.allow_change,
        "closes_at": poll.closes_at,
        "is_closed": closed,
        "voter_count": poll.voter_count,
        "options": [
            {
                "id": o.pk,
                "text": o.text,
                "vote_count": o.vote_count,
                "percentage": _percentage(o.vote_count, poll.voter_count),
                "chosen": o.pk in mine,
            }
            for o in poll.options.all()
        ],
        "my_option_ids": mine,
        "has_voted": bool(my_votes),
        "can_vote": not closed and (not my_votes or poll.allow_change),
    }


def message_poll_results(message: Message, *, user: User | None = None) -> dict | None:
    poll = poll_of(message)
    return None if poll is None else poll_results(poll, user=user)


def poll_votes_for_sender(*, message: Message, user: User) -> QuerySet[PollVote]:
    """Who voted what on ``message``'s poll, for its sender or a message-center administrator
    (``message.is_moderator``, from ``comments.message_get_for_discussion``): others who can see the
    message get 403, and an anonymous poll's voters stay secret (403)."""
    if not getattr(message, "is_moderator", False):
        raise ForbiddenError(
            "只有消息的发送者或消息中心管理员可以查看投票明细。",
            code=MessagingErrorCode.NOT_THE_SENDER_OR_STAFF,
        )
    poll = poll_of(message)
    if poll is None:
        raise NotFoundError(NO_POLL, code=MessagingErrorCode.NO_POLL)
    if poll.anonymous:
        raise ForbiddenError("这是匿名投票，不公开投票人。", code=MessagingErrorCode.POLL_ANONYMOUS)
    return poll_vote_rows(poll=poll)


def poll_vote_rows(*, poll: Poll) -> QuerySet[PollVote]:
    """Every vote of ``poll`` with its voter (department, class) and options, in voting order."""
    return (
        PollVote.objects.filter(poll=poll)
        .select_related("voter", "voter__department", "voter__school_class")
        .prefetch_related(Prefetch("options", queryset=PollOption.objects.order_by("position")))
        .order_by("id")
    )


def message_get_for_voting(*, user: User, message_id: int) -> Message:
    """A message ``user`` may vote on: one they received (or a global one). Its sender or staff who
    did not receive it see it (403 to vote); anyone else gets 404."""
    from . import comments, selectors

    message = comments.message_get_for_discussion(user=user, message_id=message_id)
    if message.is_moderator:
        try:
            reader_view = selectors.message_get_for_user(user=user, message_id=message_id)
        except NotFoundError:
            raise ForbiddenError("只有消息的接收者可以投票。", code=MessagingErrorCode.INVALID_VOTE) from None
        reader_view.is_moderator = True
        return reader_view
    return message
