"""Real threads against MariaDB: concurrent votes on one poll are each counted once, and one voter
voting from two devices at once ends with one vote (issue 20 item 5)."""

import pytest

from accounts.tests.factories import UserFactory
from messaging import polls
from messaging.models import Message, Poll, PollOption, PollVote
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from messaging.tests.test_concurrency import run_in_threads
from wechathhu.core.errors import ApplicationError

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]

VOTERS = 60


def _poll(voters, **settings):
    message = MessageFactory()
    for user in voters:
        MessageRecipientFactory(message=message, recipient=user)
    polls.poll_create(message=message, question="选哪天？", options=["周四", "周五", "周六"], **settings)
    return message, list(PollOption.objects.filter(poll__message=message).order_by("position"))


def _recount(message):
    """The counters as the vote rows say they should be."""
    through = PollVote.options.through
    by_option = {}
    for option_id in through.objects.filter(pollvote__poll__message=message).values_list(
        "polloption_id", flat=True
    ):
        by_option[option_id] = by_option.get(option_id, 0) + 1
    return by_option, PollVote.objects.filter(poll__message=message).count()


def test_sixty_people_voting_at_once_are_each_counted_once():
    voters = UserFactory.create_batch(VOTERS)
    message, options = _poll(voters, multiple=True, max_choices=2)

    def vote(i):
        chosen = [options[i % 3].pk] if i % 2 else [options[0].pk, options[(i % 2) + 1].pk]
        polls.poll_vote(message=message, user=voters[i], option_ids=chosen)

    assert run_in_threads(vote, VOTERS) == []
    poll = Poll.objects.get(message=message)
    by_option, votes = _recount(message)
    assert votes == VOTERS == poll.voter_count == Message.objects.get(pk=message.pk).vote_count
    assert {o.pk: o.vote_count for o in PollOption.objects.filter(poll=poll)} == {
        o.pk: by_option.get(o.pk, 0) for o in options
    }


def test_people_changing_their_votes_at_once_keep_the_counters_exact():
    voters = UserFactory.create_batch(20)
    message, options = _poll(voters)
    for user in voters:
        polls.poll_vote(message=message, user=user, option_ids=[options[0].pk])

    def change(i):
        polls.poll_vote(message=message, user=voters[i % 20], option_ids=[options[1 + i % 2].pk])

    assert run_in_threads(change, 40) == []
    by_option, votes = _recount(message)
    assert votes == 20 == Poll.objects.get(message=message).voter_count
    assert [o.vote_count for o in PollOption.objects.filter(poll__message=message).order_by("position")] == [
        by_option.get(o.pk, 0) for o in options
    ]
    assert sum(by_option.values()) == 20


def test_one_voter_on_two_devices_at_once_has_one_vote():
    [voter] = UserFactory.create_batch(1)
    message, options = _poll([voter])

    def vote(i):
        polls.poll_vote(message=message, user=voter, option_ids=[options[i].pk])

    assert run_in_threads(vote, 2) == []
    assert PollVote.objects.filter(voter=voter).count() == 1
    assert Poll.objects.get(message=message).voter_count == 1
    assert sum(o.vote_count for o in PollOption.objects.filter(poll__message=message)) == 1


def test_one_voter_on_two_devices_when_changes_are_forbidden_gets_one_vote_and_one_refusal():
    [voter] = UserFactory.create_batch(1)
    message, options = _poll([voter], allow_change=False)

    def vote(i):
        polls.poll_vote(message=message, user=voter, option_ids=[options[i].pk])

    errors = run_in_threads(vote, 2)
    assert len(errors) == 1 and isinstance(errors[0], ApplicationError)
    assert errors[0].code == "vote_change_not_allowed"
    assert Poll.objects.get(message=message).voter_count == 1
    assert sum(o.vote_count for o in PollOption.objects.filter(poll__message=message)) == 1
