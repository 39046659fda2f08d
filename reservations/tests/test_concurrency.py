"""No double booking with concurrent requests: real threads, each with its own DB connection."""

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory

N = 8


def _run_concurrently(worker, count):
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = worker(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_n_conflicting_api_bookings_succeeds(make_client):
    room = MeetingroomFactory()
    clients = [make_client(UserFactory()) for _ in range(N)]
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    # Each request overlaps all the others, shifted by 0 or 30 minutes.
    spans = [
        (start + timedelta(minutes=30 * (i % 2)), start + timedelta(minutes=90 + 30 * (i % 2)))
        for i in range(N)
    ]

    def book(i):
        s, e = spans[i]
        return clients[i].post(
            "/reservations/",
            {
                "meetingroom_object": room.pk,
                "reserve_from": s.isoformat(),
                "reserve_to": e.isoformat(),
                "description": "抢",
            },
            format="json",
        )

    responses = _run_concurrently(book, N)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (N - 1)
    assert all(
        r.json()["non_field_errors"] == ["会议室在该时间段已经被占用。"]
        for r in responses
        if r.status_code == 400
    )
    assert Reservation.objects.filter(meetingroom=room).count() == 1


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_different_rooms_all_succeed(make_client):
    rooms = [MeetingroomFactory() for _ in range(N)]
    clients = [make_client(UserFactory()) for _ in range(N)]
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)

    def book(i):
        return clients[i].post(
            "/reservations/",
            {
                "meetingroom_object": rooms[i].pk,
                "reserve_from": start.isoformat(),
                "reserve_to": (start + timedelta(hours=1)).isoformat(),
                "description": "各自",
            },
            format="json",
        )

    assert [r.status_code for r in _run_concurrently(book, N)] == [201] * N


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_series_and_single_bookings_racing_for_one_slot_give_one_booking(make_client):
    room = MeetingroomFactory()
    clients = [make_client(UserFactory()) for _ in range(N)]
    day = timezone.localdate() + timedelta(days=2)

    def book(i):
        if i % 2:
            return clients[i].post(
                "/reservations/series/",
                {
                    "meetingroom_object": room.pk,
                    "description": "周会",
                    "frequency": "daily",
                    "start_date": day.isoformat(),
                    "count": 1,
                    "start_time": "14:00",
                    "end_time": "15:00",
                },
                format="json",
            )
        start = timezone.make_aware(datetime.combine(day, time(14)))
        return clients[i].post(
            "/reservations/",
            {
                "meetingroom_object": room.pk,
                "reserve_from": start.isoformat(),
                "reserve_to": (start + timedelta(hours=1)).isoformat(),
                "description": "单次",
            },
            format="json",
        )

    statuses = sorted(r.status_code for r in _run_concurrently(book, N))
    assert statuses == [201] + [400] * (N - 1)
    assert Reservation.objects.filter(meetingroom=room).count() == 1


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_one_users_concurrent_bookings_of_different_rooms_respect_the_limit(make_client, settings):
    """Issue 16 item 19: the per-user limit is counted under the user's row lock."""
    settings.RESERVATION_MAX_ACTIVE_PER_USER = 3
    rooms = [MeetingroomFactory() for _ in range(N)]
    user = UserFactory()
    clients = [make_client(user, device=f"phone-{i}") for i in range(N)]
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)

    def book(i):
        return clients[i].post(
            "/reservations/",
            {
                "meetingroom_object": rooms[i].pk,
                "reserve_from": start.isoformat(),
                "reserve_to": (start + timedelta(hours=1)).isoformat(),
                "description": "抢",
            },
            format="json",
        )

    responses = _run_concurrently(book, N)
    assert sorted(r.status_code for r in responses) == [201] * 3 + [400] * (N - 3)
    assert Reservation.objects.filter(user=user).count() == 3
