"""The admin home (issue 16 item 23): 今日概览's figures are right and each links to a list showing
exactly those rows; the apps come in the order staff use them; the scheduler is a 系统 group for
superusers only; and the page costs the same queries with one row of everything or many."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from activities.tests.factories import (
    ActivityFactory,
    ClockinItemFactory,
    ClockinRecordFactory,
    EnrollmentFactory,
)
from guides.models import GuideMailRequest
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from repairs.models import RepairNotification, RepairStatus
from repairs.tests.factories import RepairRequestFactory
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local
from wechathhu.core.outbox import DeliveryStatus

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _figures(response) -> dict[str, dict]:
    """``{block key: {figure label: figure}}`` from the page's context."""
    return {block.key: {f.label: f for f in block.figures} for block in response.context["overview"]}


def _blocks(response) -> dict:
    return {block.key: block for block in response.context["overview"]}


def _listed(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def make_repairs(n):
    now = timezone.now()
    for _ in range(n):
        RepairRequestFactory(due_at=now - timedelta(hours=1))  # overdue
    RepairRequestFactory(status=RepairStatus.PROCESSING)  # open, on time
    RepairRequestFactory(status=RepairStatus.SOLVED, due_at=now - timedelta(days=2))  # done


def make_bookings(n):
    today = timezone.localdate()
    room = MeetingroomFactory()
    ReservationFactory(meetingroom=room, reserve_from=local(today, "09:00"), reserve_to=local(today, "10:00"))
    ReservationFactory(meetingroom=room, reserve_from=local(today, "09:30"), reserve_to=local(today, "10:30"))
    for _ in range(n):  # back-to-back in rooms of their own: no clash
        other = MeetingroomFactory()
        ReservationFactory(
            meetingroom=other, reserve_from=local(today, "14:00"), reserve_to=local(today, "15:00")
        )
        ReservationFactory(
            meetingroom=other, reserve_from=local(today, "15:00"), reserve_to=local(today, "16:00")
        )
    tomorrow = today + timedelta(days=1)
    ReservationFactory(
        meetingroom=room, reserve_from=local(tomorrow, "09:00"), reserve_to=local(tomorrow, "10:00")
    )


def make_activities(n):
    today = timezone.localdate()
    for i in range(n):
        activity = ActivityFactory(
            name=f"今日讲座{i}", time_start=local(today, "10:00"), time_end=local(today, "12:00")
        )
        item, item2 = ClockinItemFactory(activity=activity), ClockinItemFactory(activity=activity)
        people = [EnrollmentFactory(activity=activity).user for _ in range(4)]
        ClockinRecordFactory(item=item, user=people[0])
        ClockinRecordFactory(item=item2, user=people[0])  # one person, two items: counted once
        ClockinRecordFactory(item=item, user=people[1])
        ClockinRecordFactory(item=item, user=people[2])
        EnrollmentFactory(activity=activity, status="waiting")  # holds no place
    ActivityFactory(time_start=timezone.now() + timedelta(days=3))  # not today


def make_messages(n):
    now = timezone.now()
    for i in range(n):
        message = MessageFactory(title=f"本周通知{i}", published_at=now - timedelta(minutes=i + 1))
        readers = [MessageRecipientFactory(message=message) for _ in range(4)]
        for row in readers[:2]:
            row.read_at = now
            row.save(update_fields=["read_at"])
        message.audience_size = 4
        message.save(update_fields=["audience_size"])
    MessageFactory(title="上个月的通知", published_at=now - timedelta(days=40))


def make_failed_deliveries(n):
    for i in range(n):
        GuideMailRequest.objects.create(
            guide_name="报销流程", email=f"a{i}@example.edu.cn", status=DeliveryStatus.FAILED
        )
    GuideMailRequest.objects.create(
        guide_name="报销流程", email="ok@example.edu.cn", status=DeliveryStatus.SENT, sent_at=timezone.now()
    )
    repair = RepairRequestFactory(status=RepairStatus.CLOSED)
    RepairNotification.objects.create(
        request=repair, name="维修员", email="f@example.edu.cn", status=DeliveryStatus.FAILED
    )


def make_everything(n):
    make_repairs(n)
    make_bookings(n)
    make_activities(n)
    make_messages(n)
    make_failed_deliveries(n)


def test_each_figure_is_right_and_its_link_lists_exactly_those_rows(superuser):
    if timezone.localtime().hour >= 23:  # the day's bookings would start tomorrow
        pytest.skip("too close to midnight")
    make_everything(2)
    client = _client(superuser)
    response = client.get("/admin/")
    assert response.status_code == 200
    figures = _figures(response)

    overdue = figures["repairs"]["超时未解决"]
    assert (overdue.value, overdue.alert) == (2, True)
    assert _listed(client, overdue.url) == 2
    pending = figures["repairs"]["待处理（未受理、处理中）"]
    assert pending.value == 3 and _listed(client, pending.url) == 3

    bookings, clashes = figures["bookings"]["今日预约"], figures["bookings"]["时间冲突"]
    assert bookings.value == 6 and _listed(client, bookings.url) == 6
    assert (clashes.value, clashes.alert) == (2, True)
    assert _listed(client, clashes.url) == 2

    activities = _blocks(response)["activities"]
    assert figures["activities"]["今日进行的活动"].value == 2
    assert _listed(client, figures["activities"]["今日进行的活动"].url) == 2
    assert [row["cells"][1:] for row in activities.rows] == [[4, 3, "75.0%"], [4, 3, "75.0%"]]
    assert client.get(activities.rows[0]["url"]).status_code == 200  # the activity's statistics

    week = figures["messages"]
    assert week["本周发布"].value == 2 and _listed(client, week["本周发布"].url) == 2
    assert week["总阅读率"].value == "50.0%"
    messages = _blocks(response)["messages"]
    assert [row["name"] for row in messages.rows] == ["本周通知0", "本周通知1"]
    assert messages.rows[0]["cells"][1:] == [4, 2, "50.0%"]

    failed = figures["failed"]
    assert {label: figure.value for label, figure in failed.items()} == {
        str(GuideMailRequest._meta.verbose_name): 2,
        str(RepairNotification._meta.verbose_name): 1,
    }
    for figure in failed.values():
        assert _listed(client, figure.url) == figure.value

    # The page shows them, each a link.
    html = response.content.decode()
    assert 'id="overview-repairs"' in html and overdue.url.replace("&", "&amp;") in html


def test_nothing_to_do_reads_as_such(superuser):
    response = _client(superuser).get("/admin/")
    html = response.content.decode()
    assert "今天没有活动。" in html and "本周还没有发布消息。" in html and "没有发送失败的记录。" in html
    assert _figures(response)["questions"]["待回复"].value == 0


def test_private_questions_awaiting_an_answer_are_counted_and_listed(superuser):
    from messaging.comments import comment_create, message_get_for_discussion

    teacher = UserFactory()
    message = MessageFactory(sender=teacher, title="期末安排")
    askers = [UserFactory() for _ in range(3)]
    for asker in askers:
        MessageRecipientFactory(message=message, recipient=asker)
    as_asker = [message_get_for_discussion(user=a, message_id=message.pk) for a in askers]
    answered = comment_create(message=as_asker[0], user=askers[0], body="几点开始？", private=True)
    comment_create(message=as_asker[1], user=askers[1], body="在哪个教室？", private=True)
    comment_create(message=as_asker[2], user=askers[2], body="收到。")  # public: not a question
    as_sender = message_get_for_discussion(user=teacher, message_id=message.pk)
    comment_create(message=as_sender, user=teacher, body="九点。", reply_to_id=answered.pk)

    client = _client(superuser)
    figure = _figures(client.get("/admin/"))["questions"]["待回复"]
    assert figure.value == 1
    assert "awaiting=yes" in figure.url
    assert _listed(client, figure.url) == 1


def test_the_home_costs_the_same_queries_with_one_row_or_many(superuser):
    client = _client(superuser)
    make_everything(1)
    client.get("/admin/")  # warm the content types and the session
    with CaptureQueriesContext(connection) as one:
        assert client.get("/admin/").status_code == 200
    make_everything(6)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/admin/").status_code == 200
    assert len(many) == len(one), [q["sql"][:120] for q in many.captured_queries]


def test_apps_in_order_of_use_and_the_scheduler_under_system_for_superusers(superuser):
    app_list = _client(superuser).get("/admin/").context["app_list"]
    labels = [app["app_label"] for app in app_list]
    assert labels[0] == "messaging" and app_list[0]["name"] == "消息中心"
    assert labels.index("activities") < labels.index("reservations") < labels.index("accounts")
    system = app_list[-1]
    assert system["name"] == "系统" and system["app_label"] == "django_celery_beat"
    assert {m["object_name"] for m in system["models"]} >= {
        "PeriodicTask",
        "IntervalSchedule",
        "CrontabSchedule",
    }
    assert labels.count("django_celery_beat") == 1


def test_staff_who_are_not_superusers_never_see_the_scheduler(db):
    staff = UserFactory(is_staff=True, kind="staff")
    # Even with every permission of the scheduler's tables (and of repairs).
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["django_celery_beat", "repairs", "messaging"])
    )
    client = _client(staff)
    response = client.get("/admin/")
    labels = [app["app_label"] for app in response.context["app_list"]]
    assert "django_celery_beat" not in labels and "系统" not in [
        a["name"] for a in response.context["app_list"]
    ]
    assert labels[0] == "messaging"
    assert "周期性任务" not in response.content.decode()
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403
    assert client.get("/admin/django_celery_beat/").status_code == 404
    # The blocks they may view, and only those.
    blocks = _blocks(response)
    assert "repairs" in blocks and "messages" in blocks
    assert "bookings" not in blocks and "activities" not in blocks
    assert "RepairNotification" not in str(blocks)


def test_a_superuser_opens_the_scheduler(superuser):
    client = _client(superuser)
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200
    assert client.get("/admin/django_celery_beat/").status_code == 200
