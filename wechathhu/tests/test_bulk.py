"""``wechathhu.core.bulk``: rows written as plain values, conflicts ignored, and — from
``insert_ignore_returning`` — the rows written answered, on each engine."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messaging.models import DigestDelivery
from wechathhu.core.bulk import db_date, db_datetime, insert_ignore_returning

pytestmark = pytest.mark.django_db
FIELDS = (
    "created_at",
    "updated_at",
    "status",
    "attempts",
    "next_attempt_at",
    "reason",
    "last_error",
    "user",
    "date",
    "channel",
)
HOSTILE = "它's \"quoted\" \\ back; slash') -- DROP TABLE x; %s %(x)s 😀"


def row(user, day, *, status="queued", text=""):
    stamp = db_datetime(timezone.now())
    return (
        stamp,
        stamp,
        status,
        0,
        None if status != "queued" else stamp,
        "",
        text,
        user.pk,
        db_date(day),
        "email",
    )


def test_insert_ignore_returning_answers_only_the_rows_it_wrote_with_their_values_intact():
    users = UserFactory.create_batch(3)
    day = dt.date(2026, 12, 8)
    first = insert_ignore_returning(
        DigestDelivery, FIELDS, [row(users[0], day, text=HOSTILE)], returning=("id", "user")
    )
    second = insert_ignore_returning(
        DigestDelivery,
        FIELDS,
        [row(u, day, status="skipped", text=HOSTILE) for u in users],  # the first conflicts: (user, date)
        returning=("id", "status"),
        batch_size=2,
    )
    rows = {r.user_id: r for r in DigestDelivery.objects.all()}
    assert len(rows) == 3 and {r.last_error for r in rows.values()} == {HOSTILE}
    if not connection.features.can_return_columns_from_insert:
        assert first is None and second is None
        return
    assert first == [(rows[users[0].pk].pk, users[0].pk)]
    assert sorted(second) == sorted((rows[u.pk].pk, "skipped") for u in users[1:])
    assert rows[users[0].pk].status == "queued"  # ignored, not overwritten
