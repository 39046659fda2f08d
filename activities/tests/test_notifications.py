"""Waiting-list promotions are announced through the message center, once."""

import json

import pytest

from accounts.tests.factories import UserFactory
from activities.models import Enrollment, EnrollmentStatus
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

    assert Message.objects.filter(title__startswith="候补成功").count() == 1


def test_the_notice_is_written_with_the_promotion_even_when_the_broker_is_down(make_client, broker_down):
    """No task carries the notice: it is one write with the promotion, so an outage loses nothing."""
    activity = ActivityFactory(name="读书会", participants_total_limit=1)
    holder, waiting = UserFactory(), UserFactory()
    holder_enrollment = enroll(make_client(holder), activity).data["id"]
    enroll(make_client(waiting), activity, join_waiting_list=True)

    assert make_client(holder).delete(f"/enrollments/{holder_enrollment}/").status_code == 204

    assert MessageRecipient.objects.get(recipient=waiting).message.title == "候补成功：读书会"
