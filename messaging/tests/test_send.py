"""``message_send`` and ``message_create``: fan-out, audiences, validation, nesting."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    StudentFactory,
    UserFactory,
)
from messaging import selectors, services
from messaging.models import Message, MessageRecipient
from wechathhu.core.errors import ApplicationError, ForbiddenError

pytestmark = pytest.mark.django_db


def test_global_message_writes_no_recipient_rows():
    UserFactory.create_batch(5)
    message = services.message_send(title="系统维护", is_global=True)
    assert message.is_global and message.sender is None
    assert MessageRecipient.objects.count() == 0


def test_targeted_message_writes_the_resolved_audience_once():
    dept = DepartmentFactory()
    in_dept = UserFactory.create_batch(3, department=dept)
    school_class = SchoolClassFactory()
    students = StudentFactory.create_batch(2, school_class=school_class)
    group = CampusGroupFactory()
    member = GroupMembershipFactory(group=group).user
    direct = UserFactory()
    also_in_dept = in_dept[0]  # listed twice (directly and through the department): one row
    UserFactory(department=dept, is_active=False)  # inactive users are not addressed
    UserFactory()  # outside every audience

    message = services.message_send(
        title="开会",
        recipient_ids=[direct.pk, also_in_dept.pk],
        department_ids=[dept.pk],
        class_ids=[school_class.pk],
        group_ids=[group.pk],
    )

    expected = {u.pk for u in [*in_dept, *students, member, direct]}
    assert (
        set(MessageRecipient.objects.filter(message=message).values_list("recipient_id", flat=True))
        == expected
    )
    assert message.audience_size == len(expected)
    assert set(message.audience_departments.all()) == {dept}
    assert set(message.audience_classes.all()) == {school_class}
    assert set(message.audience_groups.all()) == {group}


def test_kinds_audience_addresses_every_active_user_of_that_kind():
    teachers = UserFactory.create_batch(2, kind="teacher")
    StudentFactory()
    message = services.message_send(title="教师大会", kinds=["teacher"])
    assert set(message.recipient_users.values_list("pk", flat=True)) == {t.pk for t in teachers}
    assert message.audience_kinds == ["teacher"]


def test_rows_are_written_in_batches(settings, django_assert_max_num_queries):
    settings.MESSAGING_RECIPIENT_BATCH_SIZE = 3
    users = UserFactory.create_batch(10)
    message = services.message_send(title="批量", recipient_ids=[u.pk for u in users])
    assert message.audience_size == 10
    assert MessageRecipient.objects.filter(message=message).count() == 10


def test_send_query_count_does_not_grow_with_the_audience(settings, django_assert_num_queries):
    settings.MESSAGING_RECIPIENT_BATCH_SIZE = 1000
    small = UserFactory.create_batch(2)
    large = UserFactory.create_batch(40)
    # ... and the search index: its old terms deleted, the new ones inserted (the message is
    # written with its audience size: no UPDATE after the recipients)
    with django_assert_num_queries(10):
        services.message_send(title="少", recipient_ids=[u.pk for u in small])
    with django_assert_num_queries(10):
        services.message_send(title="多", recipient_ids=[u.pk for u in large])


def test_empty_audience_is_kept_and_does_not_break_the_callers_transaction():
    inactive = UserFactory(is_active=False)
    with transaction.atomic():
        message = services.message_send(title="提醒", recipient_ids=[inactive.pk])
    assert message.audience_size == 0
    assert Message.objects.filter(pk=message.pk).exists()


def _caller_service_that_fails_after_sending(user):
    with transaction.atomic():
        services.message_send(title="预约成功", recipient_ids=[user.pk])
        raise RuntimeError("the caller fails after sending")


def test_send_nests_inside_the_callers_transaction_and_rolls_back_with_it():
    user = UserFactory()
    with pytest.raises(RuntimeError):
        _caller_service_that_fails_after_sending(user)
    assert not Message.objects.exists()
    assert not MessageRecipient.objects.exists()


def test_publish_is_queued_only_after_the_outer_commit(django_capture_on_commit_callbacks):
    UserFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = services.message_send(title="全体通知", is_global=True)
        assert callbacks == []
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.publish_processed_at is not None
    assert message.audience_size == 3


def test_scheduled_message_is_not_published_at_send_time(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.message_send(
            title="明天发布", is_global=True, published_at=timezone.now() + timedelta(days=1)
        )
    assert callbacks == []


def test_invalid_type_and_kind_are_rejected():
    with pytest.raises(Exception, match="type"):
        services.message_send(title="x", type="email", is_global=True)
    with pytest.raises(ApplicationError, match="未知的身份"):
        services.message_send(title="x", kinds=["alien"])


def test_expiry_must_follow_publication():
    now = timezone.now()
    with pytest.raises(Exception, match="过期时间必须晚于发布时间"):
        services.message_send(
            title="x", is_global=True, published_at=now, expires_at=now - timedelta(hours=1)
        )


def test_create_requires_the_send_permission(user):
    with pytest.raises(ForbiddenError):
        services.message_create(sender=user, title="x", recipient_ids=[user.pk])


def test_teacher_granted_send_permission_may_send(user):
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="send", content_type__app_label="messaging"))
    user = type(user).objects.get(pk=user.pk)
    assert selectors.user_can_send(user=user)
    assert not selectors.user_can_send_global(user=user)
    other = UserFactory()
    message = services.message_create(sender=user, title="班会", recipient_ids=[other.pk])
    assert message.audience_size == 1


def test_create_global_requires_send_global(staff_user, superuser):
    with pytest.raises(ForbiddenError, match="全局"):
        services.message_create(sender=staff_user, title="x", is_global=True)
    assert services.message_create(sender=superuser, title="x", is_global=True).is_global


def test_create_rejects_unknown_ids_and_empty_audiences(staff_user):
    with pytest.raises(ApplicationError, match="以下用户不存在：999999"):
        services.message_create(sender=staff_user, title="x", recipient_ids=[999999])
    with pytest.raises(ApplicationError, match="请指定接收者"):
        services.message_create(sender=staff_user, title="x")
    empty = DepartmentFactory()
    with pytest.raises(ApplicationError, match="没有可接收消息的用户"):
        services.message_create(sender=staff_user, title="x", department_ids=[empty.pk])
    assert not Message.objects.exists()


def test_recipient_rows_are_indexed_only_for_the_queries_that_read_them():
    """Issue 18 item 3: each recipient row of a send writes an entry into every index of the
    table. The per-user index (inbox, counts) and the per-message one (read counts) stay; the
    one on ``created_at``, which no query used, is gone (migration 0008); the time is still set."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, MessageRecipient._meta.db_table)
    indexed = {tuple(info["columns"]) for info in constraints.values() if info["index"] or info["unique"]}
    assert ("recipient_id", "message_id") in indexed
    assert ("message_id", "read_at") in indexed
    assert ("created_at",) not in indexed
    user = UserFactory()
    message = services.message_send(title="通知", recipient_ids=[user.pk])
    assert MessageRecipient.objects.get(message=message, recipient=user).created_at is not None
