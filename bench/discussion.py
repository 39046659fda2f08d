"""Messages people answer (issue 20): the data of the comment page and the poll, and the poll's
vote storm.

* ``build_discussion``: a global message (everyone sees it) with comments open and a thread of
  comments — public ones (a few hidden), private questions, the sender's answers — and a global
  message carrying a single-choice poll, both published a day ago (in the hot list's window).
* ``poll_votes``: 500 distinct voters vote on that poll at once through HTTP, against the bench's
  gunicorn; some send their vote twice at the same moment (a double tap), some change it right
  after; then the stored votes and every counter must be exactly what was sent.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta

from django.db import close_old_connections
from django.utils import timezone

from .burst import _post, figures

DISCUSSION_TITLE = "意见征集：食堂与宿舍服务（压测）"
POLL_TITLE = "投票：校运会新增项目（压测）"
POLL_OPTIONS = ["拔河", "跳长绳", "定向越野", "趣味接力"]
PUBLIC_COMMENTS = 300
HIDDEN_COMMENTS = 10
PRIVATE_QUESTIONS = 60
ANSWERED_QUESTIONS = 30
COMMENT_TEXTS = [
    "建议延长二食堂晚餐供应时间。",
    "宿舍热水经常不稳定，希望尽快检修。",
    "支持！希望多增加一些清真窗口。",
    "快递点能否搬到宿舍区附近？",
    "图书馆自习室空调太冷了。",
]


def _message(title: str, content: str, staff, published):
    from messaging import search
    from messaging.models import Message

    message = Message.objects.create(
        title=title,
        content=content,
        sender=staff,
        is_global=True,
        comments_open=True,
        published_at=published,
        publish_processed_at=published,
    )
    search.message_index(message=message)
    return message


def build_discussion(scale: dict, rng: random.Random) -> None:
    """The comment page's message and the poll's message (skipped once built)."""
    from messaging import polls
    from messaging.models import Message, MessageComment

    from .data import bench_staff, bench_users

    if Message.objects.filter(title=POLL_TITLE).exists():
        return
    staff = bench_staff()
    users = [uid for uid, *_ in bench_users()]
    published = timezone.now() - timedelta(days=1)
    message = _message(DISCUSSION_TITLE, "请在评论区留下您的意见，或私信提问。", staff, published)
    comments = [
        MessageComment(
            message=message,
            author_id=rng.choice(users),
            body=rng.choice(COMMENT_TEXTS),
            hidden_at=published if i < HIDDEN_COMMENTS else None,
            hidden_by=staff if i < HIDDEN_COMMENTS else None,
        )
        for i in range(PUBLIC_COMMENTS)
    ]
    askers = rng.sample(users, min(len(users), PRIVATE_QUESTIONS))
    comments += [
        MessageComment(
            message=message,
            author_id=asker,
            body="请问这个意见征集什么时候截止？",
            is_private=True,
            private_to_id=asker,
            answered_at=published if i < ANSWERED_QUESTIONS else None,
        )
        for i, asker in enumerate(askers)
    ]
    rng.shuffle(comments)
    MessageComment.objects.bulk_create(comments)
    answers = [
        MessageComment(
            message=message,
            author=staff,
            body="本周五截止，感谢参与。",
            is_private=True,
            private_to_id=question.private_to_id,
            reply_to=question,
            is_answer=True,
        )
        for question in MessageComment.objects.filter(message=message, answered_at__isnull=False)
    ]
    MessageComment.objects.bulk_create(answers)
    Message.objects.filter(pk=message.pk).update(comment_count=PUBLIC_COMMENTS - HIDDEN_COMMENTS)

    poll_message = _message(POLL_TITLE, "请选出您最想在校运会上看到的新项目。", staff, published)
    polls.poll_create(message=poll_message, question="最想新增哪个项目？", options=POLL_OPTIONS)


def discussion_message_id() -> int:
    from messaging.models import Message

    return Message.objects.filter(title=DISCUSSION_TITLE).values_list("pk", flat=True).get()


# --- The vote storm ----------------------------------------------------------------------------------


def _reset_poll():
    """The poll without any vote (a run starts from nothing); returns it with its option ids."""
    from django.db import transaction

    from messaging.models import Message, Poll, PollOption, PollVote

    poll = Poll.objects.get(message__title=POLL_TITLE)
    with transaction.atomic():
        PollVote.objects.filter(poll=poll).delete()
        PollOption.objects.filter(poll=poll).update(vote_count=0)
        Poll.objects.filter(pk=poll.pk).update(voter_count=0)
        Message.objects.filter(pk=poll.message_id).update(vote_count=0)
    return poll, list(PollOption.objects.filter(poll=poll).order_by("position").values_list("pk", flat=True))


def poll_votes(
    base_url: str,
    tokens: list[tuple[int, str]],
    *,
    voters: int = 500,
    double_taps: int = 50,
    changers: int = 100,
    concurrency: int = 100,
) -> dict:
    """``voters`` distinct users vote on the poll at once (``concurrency`` clients released
    together). The first ``double_taps`` send the same vote twice at the same moment; the next
    ``changers`` vote, then change to the next option as soon as their vote is answered. Every
    request must be a 200, and afterwards the poll must hold exactly one vote per voter with the
    option last sent, each option's counter the number of votes for it, and the poll's and the
    message's voter counters the number of voters."""
    from messaging.models import Message, PollOption, PollVote

    voters = min(voters, len(tokens))
    poll, options = _reset_poll()
    path = f"/api/v1/messages/{poll.message_id}/poll/vote"
    rng = random.Random(20)
    expected: dict[int, int] = {}
    jobs: list[list[tuple[str, str, str]]] = []  # each job: its requests, one after the other

    def vote(key: str, option: int) -> tuple[str, str, str]:
        return (path, f"Bearer {key}", f'{{"option_ids": [{option}]}}')

    for i, (uid, key) in enumerate(tokens[:voters]):
        first = rng.choice(options)
        if i < double_taps:
            jobs += [[vote(key, first)], [vote(key, first)]]  # adjacent: sent at the same moment
            expected[uid] = first
        elif i < double_taps + changers:
            second = options[(options.index(first) + 1) % len(options)]
            jobs.append([vote(key, first), vote(key, second)])
            expected[uid] = second
        else:
            jobs.append([vote(key, first)])
            expected[uid] = first

    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    cursor = iter(range(len(jobs)))
    gate = threading.Barrier(concurrency)

    def client():
        gate.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            for request in jobs[index]:
                outcome = _post(base_url, *request)
                with lock:
                    results.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started

    close_old_connections()
    stored = {
        vote.voter_id: sorted(o.pk for o in vote.options.all())
        for vote in PollVote.objects.filter(poll=poll).prefetch_related("options")
    }
    vote_rows = PollVote.objects.filter(poll=poll).count()
    tally = Counter(expected.values())
    counters = dict(PollOption.objects.filter(poll=poll).values_list("pk", "vote_count"))
    poll.refresh_from_db()
    message_votes = Message.objects.filter(pk=poll.message_id).values_list("vote_count", flat=True).get()
    wrong_choice = sum(1 for uid, option in expected.items() if stored.get(uid) != [option])
    out = figures(results, seconds)
    out.update(
        {
            "check": {
                "check": f"poll votes: {voters} voters at once ({double_taps} double taps, {changers} changes)",
                "target": "every vote counted once",
                "requests": len(results),
                "statuses": out["statuses"],
                "voters": voters,
                "vote_rows": vote_rows,
                "wrong_choice": wrong_choice,
                "option_counts": [counters[o] for o in options],
                "expected_counts": [tally[o] for o in options],
                "poll_voter_count": poll.voter_count,
                "message_vote_count": message_votes,
                "passed": (
                    out["statuses"] == {"200": len(results)}
                    and vote_rows == len(stored) == voters
                    and wrong_choice == 0
                    and counters == {o: tally[o] for o in options}
                    and poll.voter_count == message_votes == voters
                ),
            },
        }
    )
    return out
