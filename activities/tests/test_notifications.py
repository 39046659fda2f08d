"""Waiting-list promotions are announced through the message center, once."""

import json

import pytest

from accounts.tests.factories import UserFactory
from activities.models import Enrollment, EnrollmentStatus
from activities.tasks import notify_promoted_task
from activities.tests.factories import ActivityFactory
from messaging.models import Message, MessageRecipient

pytestmark = pytest.mark.django_db


def enroll(client, activity, **extra):
    return client.post(
        "/enrollments/",
        {
            "activity": activity.pk,
            "participating_metas": json.dumps({"姓名": "张三", "爱好": ["编程"]}),
            **extra,
        },
        format="json",
    )


def test_the_promoted_person_gets_a_message_once(make_client, django_capture_on_commit_callbacks):
    activity = ActivityFactory(name="机器学习工作坊", participants_total_limit=1)
    holder, waiting = UserFactory(), UserFactory()
    holder_enrollment = enroll(make_client(holder), activity).data["id"]
    waiting_enrollment = enroll(make_client(waiting), activity, join_waiting_list=True).data["id"]

    with django_capture_on_commit_callbacks(execute=True):
        assert make_client(holder).delete(f"/enrollments/{holder_enrollment}/").status_code == 204

    row = MessageRecipient.objects.select_related("message").get(recipient=waiting)
    assert row.message.title == "候补成功：机器学习工作坊"
    assert "递补为正式报名" in row.message.content
    assert row.message.priority == "high"
    assert not MessageRecipient.objects.filter(recipient=holder).exists()
    promoted = Enrollment.objects.get(pk=waiting_enrollment)
    assert promoted.status == EnrollmentStatus.ENROLLED and promoted.promotion_notified_at is not None

    # A re-run (a retried task) sends nothing more.
    assert notify_promoted_task.apply(kwargs={"enrollment_ids": [waiting_enrollment]}).get() == 0
    assert Message.objects.filter(title__startswith="候补成功").count() == 1


def test_a_final_failure_is_recorded_on_the_rows_still_waiting_for_their_notice():
    activity = ActivityFactory(participants_total_limit=2)
    pending, done = (
        Enrollment.objects.create(activity=activity, user=UserFactory(), promoted_at=activity.created_at)
        for _ in range(2)
    )
    Enrollment.objects.filter(pk=done.pk).update(promotion_notified_at=activity.created_at)

    # What Celery calls once the retries are exhausted.
    notify_promoted_task.on_failure(
        RuntimeError("message center down"), "task-id", (), {"enrollment_ids": [pending.pk, done.pk]}, None
    )

    pending.refresh_from_db()
    done.refresh_from_db()
    assert "message center down" in pending.promotion_notice_error
    assert done.promotion_notice_error == ""
