"""The workflow: every allowed move and every refused one, from the one transition table."""

import datetime as dt
import itertools
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from repairs import services
from repairs.models import EventKind, RepairEvent, RepairStatus
from repairs.tasks import autoclose_solved_task
from wechathhu.core.errors import ApplicationError

from .factories import FaultCategoryFactory, RepairRequestFactory

pytestmark = pytest.mark.django_db
S = RepairStatus

ALLOWED_FOR_STAFF = {
    (S.PENDING, S.PROCESSING),
    (S.PENDING, S.SOLVED),
    (S.PENDING, S.CLOSED),
    (S.PROCESSING, S.PENDING),
    (S.PROCESSING, S.SOLVED),
    (S.SOLVED, S.CLOSED),
    (S.SOLVED, S.PROCESSING),
    (S.CLOSED, S.PROCESSING),
}
ALLOWED_FOR_REPORTER = {(S.PENDING, S.CLOSED), (S.SOLVED, S.CLOSED), (S.SOLVED, S.PROCESSING)}
ALL_MOVES = [(a, b) for a, b in itertools.product(S.values, S.values) if a != b]


@pytest.mark.parametrize(("from_status", "to_status"), ALL_MOVES)
def test_staff_moves_follow_the_table(staff_user, from_status, to_status):
    repair = RepairRequestFactory(status=from_status)
    if (from_status, to_status) in ALLOWED_FOR_STAFF:
        changed = services.repair_request_change_status(repair=repair, to_status=to_status, by=staff_user)
        assert changed.status == to_status
        event = RepairEvent.objects.get(request=repair, kind=EventKind.STATUS)
        assert (event.from_status, event.to_status, event.actor) == (from_status, to_status, staff_user)
    else:
        with pytest.raises(ApplicationError, match="不能从") as info:
            services.repair_request_change_status(repair=repair, to_status=to_status, by=staff_user)
        assert (info.value.status, info.value.code) == (400, "transition_not_allowed")
        repair.refresh_from_db()
        assert repair.status == from_status
        assert not RepairEvent.objects.filter(request=repair).exists()


@pytest.mark.parametrize(("from_status", "to_status"), ALL_MOVES)
def test_reporter_moves_follow_the_table(from_status, to_status):
    repair = RepairRequestFactory(status=from_status)
    if (from_status, to_status) in ALLOWED_FOR_REPORTER:
        changed = services.repair_request_change_status(
            repair=repair, to_status=to_status, by=repair.user, comment="还是不行"
        )
        assert changed.status == to_status
    else:
        with pytest.raises(ApplicationError):
            services.repair_request_change_status(
                repair=repair, to_status=to_status, by=repair.user, comment="x"
            )
        repair.refresh_from_db()
        assert repair.status == from_status


def test_another_user_may_not_move_someone_elses_request():
    repair = RepairRequestFactory(status=S.SOLVED)
    with pytest.raises(ApplicationError, match="无权"):
        services.repair_request_change_status(repair=repair, to_status=S.CLOSED, by=UserFactory())


def test_setting_the_current_status_again_is_refused_without_a_history_line(staff_user):
    repair = RepairRequestFactory(status=S.PROCESSING)
    with pytest.raises(ApplicationError, match="已是“处理中”"):
        services.repair_request_change_status(repair=repair, to_status=S.PROCESSING, by=staff_user)
    assert not RepairEvent.objects.filter(request=repair).exists()


def test_the_reporter_must_say_why_when_reopening():
    repair = RepairRequestFactory(status=S.SOLVED)
    with pytest.raises(ApplicationError) as info:
        services.repair_request_change_status(repair=repair, to_status=S.PROCESSING, by=repair.user)
    assert info.value.field == "reason"


def test_solved_and_closed_times_are_kept_and_cleared_on_reopen(staff_user):
    repair = RepairRequestFactory(status=S.PROCESSING)
    repair = services.repair_request_change_status(repair=repair, to_status=S.SOLVED, by=staff_user)
    assert repair.solved_at is not None and repair.closed_at is None
    repair = services.repair_request_change_status(repair=repair, to_status=S.CLOSED, by=repair.user)
    assert repair.closed_at is not None
    repair = services.repair_request_change_status(repair=repair, to_status=S.PROCESSING, by=staff_user)
    assert repair.solved_at is None and repair.closed_at is None


def test_assigning_records_an_internal_history_line(staff_user):
    repair = RepairRequestFactory()
    fixer = UserFactory(is_staff=True, last_name="李", first_name="工")
    services.repair_request_assign(repair=repair, assignee=fixer, by=staff_user)
    repair.refresh_from_db()
    assert repair.assignee == fixer
    event = RepairEvent.objects.get(request=repair, kind=EventKind.ASSIGNED)
    assert event.is_internal and "李工" in event.content


def test_only_staff_can_be_assigned(staff_user):
    repair = RepairRequestFactory()
    with pytest.raises(ApplicationError, match="工作人员") as info:
        services.repair_request_assign(repair=repair, assignee=UserFactory(), by=staff_user)
    assert info.value.field == "assignee"


def test_a_reporter_cannot_assign():
    repair = RepairRequestFactory()
    with pytest.raises(ApplicationError) as info:
        services.repair_request_assign(repair=repair, assignee=UserFactory(is_staff=True), by=repair.user)
    assert info.value.status == 403


def test_recategorising_moves_the_deadline(staff_user):
    repair = RepairRequestFactory(category=FaultCategoryFactory(response_hours=24))
    slow = FaultCategoryFactory(response_hours=72)
    services.repair_request_set_category(repair=repair, category=slow, by=staff_user)
    repair.refresh_from_db()
    assert repair.category == slow
    assert repair.due_at == repair.created_at + dt.timedelta(hours=72)


def test_replies_are_public_and_notes_internal(staff_user):
    repair = RepairRequestFactory()
    reply = services.repair_request_comment(
        repair=repair, by=staff_user, content="明天上午上门", internal=False
    )
    note = services.repair_request_comment(
        repair=repair, by=staff_user, content="需要换交换机", internal=True
    )
    assert (reply.kind, reply.is_internal) == (EventKind.REPLY, False)
    assert (note.kind, note.is_internal) == (EventKind.NOTE, True)


def test_rating_needs_a_solved_repair_and_happens_once():
    repair = RepairRequestFactory(status=S.PROCESSING)
    with pytest.raises(ApplicationError, match="解决后"):
        services.repair_request_rate(repair=repair, by=repair.user, rating=5)
    staff = UserFactory(is_staff=True)
    services.repair_request_change_status(repair=repair, to_status=S.SOLVED, by=staff)
    repair = services.repair_request_rate(repair=repair, by=repair.user, rating=4, comment="很及时")
    assert (repair.rating, repair.rating_comment) == (4, "很及时")
    with pytest.raises(ApplicationError, match="已经评价"):
        services.repair_request_rate(repair=repair, by=repair.user, rating=5)


def test_only_the_reporter_rates(staff_user):
    repair = RepairRequestFactory(status=S.SOLVED)
    with pytest.raises(ApplicationError, match="只有报修人"):
        services.repair_request_rate(repair=repair, by=staff_user, rating=5)


def test_confirming_closes_and_may_rate_at_once(staff_user):
    repair = RepairRequestFactory(status=S.PROCESSING)
    services.repair_request_change_status(repair=repair, to_status=S.SOLVED, by=staff_user)
    repair = services.repair_request_confirm(repair=repair, by=repair.user, rating=5, comment="好")
    assert (repair.status, repair.rating) == (S.CLOSED, 5)


def test_confirming_a_pending_request_is_refused():
    repair = RepairRequestFactory(status=S.PENDING)
    with pytest.raises(ApplicationError, match="解决后才能确认"):
        services.repair_request_confirm(repair=repair, by=repair.user)
    repair.refresh_from_db()
    assert repair.status == S.PENDING


def test_solved_requests_left_unconfirmed_are_closed_by_the_system(settings):
    settings.REPAIRS_AUTO_CLOSE_DAYS = 7
    now = timezone.now()
    stale = RepairRequestFactory(status=S.SOLVED, solved_at=now - dt.timedelta(days=8))
    recent = RepairRequestFactory(status=S.SOLVED, solved_at=now - dt.timedelta(days=2))
    processing = RepairRequestFactory(status=S.PROCESSING)
    with time_machine.travel(now, tick=False):
        assert autoclose_solved_task.delay().get() == 1
    for repair in (stale, recent, processing):
        repair.refresh_from_db()
    assert (stale.status, recent.status, processing.status) == (S.CLOSED, S.SOLVED, S.PROCESSING)
    event = RepairEvent.objects.get(request=stale, kind=EventKind.STATUS)
    assert event.actor is None and "系统自动关闭" in event.content


def test_auto_close_can_be_switched_off(settings):
    settings.REPAIRS_AUTO_CLOSE_DAYS = 0
    repair = RepairRequestFactory(status=S.SOLVED, solved_at=timezone.now() - dt.timedelta(days=100))
    assert services.repair_requests_autoclose() == 0
    repair.refresh_from_db()
    assert repair.status == S.SOLVED


@pytest.mark.parametrize(("from_status", "to_status"), [m for m in ALL_MOVES if m != (S.SOLVED, S.CLOSED)])
def test_the_system_may_only_close_solved_requests(from_status, to_status):
    repair = RepairRequestFactory(status=from_status)
    with pytest.raises(ApplicationError):
        services.repair_request_change_status(repair=repair, to_status=to_status, by=None)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_of_one_request_are_decided_under_its_row_lock():
    repair = RepairRequestFactory(status=S.PENDING)
    desk = [UserFactory(is_staff=True) for _ in range(4)]
    barrier = threading.Barrier(len(desk))
    outcomes = []

    def accept(staff):
        try:
            barrier.wait()
            services.repair_request_change_status(repair=repair, to_status=S.PROCESSING, by=staff)
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(staff,)) for staff in desk]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", *["报修已是“处理中”状态。"] * 3]
    assert RepairEvent.objects.filter(request=repair, kind=EventKind.STATUS).count() == 1


# What the reporter may do now: written out independently of the transition table.
REPORTER_ACTIONS_BY_STATE = [
    (S.PENDING, None, ["cancel"]),
    (S.PROCESSING, None, []),
    (S.SOLVED, None, ["confirm", "reopen", "rate"]),
    (S.SOLVED, 4, ["confirm", "reopen"]),
    (S.CLOSED, None, ["rate"]),
    (S.CLOSED, 5, []),
]


@pytest.mark.parametrize(("status", "rating", "expected"), REPORTER_ACTIONS_BY_STATE)
def test_reporter_actions_follow_the_state(status, rating, expected):
    solved_at = timezone.now() if status in (S.SOLVED, S.CLOSED) else None
    repair = RepairRequestFactory(status=status, rating=rating, solved_at=solved_at)
    assert services.reporter_actions(repair=repair) == expected
