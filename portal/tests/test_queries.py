"""No page's query count grows with its list length: each list page is requested with one row and
with several, and both cost the same number of queries."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services.tokens import token_issue
from accounts.tests.factories import FriendshipFactory, UserFactory
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from guides.tests.factories import GuideFactory
from messaging.models import Message
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from repairs.models import EventKind, RepairEvent
from repairs.tests.factories import RepairRequestFactory
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db


def _tomorrow():
    return timezone.localdate() + timedelta(days=1)


def make_messages(user, n):
    for _ in range(n):
        MessageRecipientFactory(recipient=user, message=MessageFactory())


def make_contacts(user, n):
    for _ in range(n):
        FriendshipFactory(user=user, friend=UserFactory(department=user.department))


def make_rooms(user, n):
    for i in range(n):
        room = MeetingroomFactory(location="勤学楼 4 楼")
        ReservationFactory(
            meetingroom=room, reserve_from=local(_tomorrow(), "09:00"), reserve_to=local(_tomorrow(), "10:00")
        )
        ReservationFactory(
            user=user,
            meetingroom=room,
            reserve_from=local(_tomorrow(), f"{11 + i % 8}:00"),
            reserve_to=local(_tomorrow(), f"{11 + i % 8}:30"),
        )


def make_activities(user, n):
    for _ in range(n):
        EnrollmentFactory(user=user, activity=ActivityFactory())


def make_activity_items(user, n):
    from activities.models import Activity

    activity = Activity.objects.filter(pk=9001).first()
    if activity is None:
        activity = ActivityFactory(pk=9001)
        EnrollmentFactory(user=user, activity=activity)
    for _ in range(n):
        ClockinItemFactory(activity=activity)


def make_repairs(user, n):
    for _ in range(n):
        RepairRequestFactory(user=user)


def make_repair_events(user, n):
    from repairs.models import RepairRequest

    repair = RepairRequest.objects.filter(pk=9002).first() or RepairRequestFactory(user=user, pk=9002)
    for i in range(n):
        RepairEvent.objects.create(request=repair, actor=user, kind=EventKind.REPLY, content=f"回复{i}")


def make_guides(user, n):
    for _ in range(n):
        GuideFactory()


def make_tokens(user, n):
    for i in range(n):
        token_issue(user=user, device=f"phone {i}")


def make_series(user, n):
    from reservations.services import series_create

    for i in range(n):
        series_create(
            user=user,
            meetingroom=MeetingroomFactory(),
            description=f"例会{i}",
            frequency="daily",
            weekdays=[],
            start_date=_tomorrow() + timedelta(days=1),
            until=None,
            count=3,
            start_time=time(9, 0),
            end_time=time(10, 0),
        )


def make_series_occurrences(user, n):
    from reservations.models import ReservationSeries

    series = ReservationSeries.objects.filter(pk=9003).first()
    if series is None:
        series = ReservationSeries.objects.create(
            pk=9003,
            user=user,
            meetingroom=MeetingroomFactory(),
            description="例会",
            frequency="daily",
            start_date=_tomorrow(),
            count=100,
            start_time=time(9, 0),
            end_time=time(10, 0),
        )
    start = series.occurrences.count()
    for i in range(start, start + n):
        day = _tomorrow() + timedelta(days=i)
        ReservationFactory(
            user=user,
            meetingroom=series.meetingroom,
            series=series,
            reserve_from=local(day, "09:00"),
            reserve_to=local(day, "10:00"),
        )


def make_groups(user, n):
    from accounts.tests.factories import CampusGroupFactory, GroupMembershipFactory

    for _ in range(n):
        group = CampusGroupFactory()
        GroupMembershipFactory(group=group, user=user, is_manager=True)
        GroupMembershipFactory(group=group)


def make_group_members(user, n):
    from accounts.models import CampusGroup
    from accounts.tests.factories import CampusGroupFactory, GroupMembershipFactory

    group = CampusGroup.objects.filter(pk=9004).first()
    if group is None:
        group = CampusGroupFactory(pk=9004)
        GroupMembershipFactory(group=group, user=user, is_manager=True)
    for _ in range(n):
        GroupMembershipFactory(group=group, user=UserFactory(last_name="张"))


def make_officer_items(user, n):
    for _ in range(n):
        ClockinItemFactory().officers.add(user)


def make_comments(user, n):
    from messaging.models import MessageComment

    message = Message.objects.filter(pk=9006).first()
    if message is None:
        message = MessageFactory(pk=9006, comments_open=True)
        MessageRecipientFactory(recipient=user, message=message)
    for i in range(n):
        MessageComment.objects.create(message=message, author=UserFactory(), body=f"收到{i}")


def make_sent(user, n):
    for _ in range(n):
        MessageRecipientFactory(recipient=UserFactory(), message=MessageFactory(sender=user))


def make_sent_unread(user, n):
    message = Message.objects.filter(pk=9007).first() or MessageFactory(pk=9007, sender=user)
    for _ in range(n):
        MessageRecipientFactory(recipient=UserFactory(), message=message)


CASES = [
    ("/m/", make_messages),
    ("/m/messages/", make_messages),
    ("/m/messages/?q=测试消息", make_messages),
    ("/m/messages/hot/", make_messages),
    ("/m/messages/9006/", make_comments),
    ("/m/contacts/?scope=mine", make_contacts),
    ("/m/contacts/?q=计算机&scope=all", make_contacts),
    ("/m/contacts/?scope=all", make_contacts),
    ("/m/contacts/?q=zs", make_contacts),
    (f"/m/rooms/?location=勤学楼%204%20楼&date={_tomorrow().isoformat()}", make_rooms),
    (
        f"/m/rooms/search/?date={_tomorrow().isoformat()}&time_from=08:00&time_to=20:00&length=60",
        make_rooms,
    ),
    ("/m/rooms/mine/", make_rooms),
    ("/m/groups/", make_groups),
    ("/m/groups/9004/", make_group_members),
    ("/m/groups/9004/?q=张", make_group_members),
    ("/m/rooms/series/", make_series),
    ("/m/rooms/series/9003/", make_series_occurrences),
    ("/m/activities/", make_activities),
    ("/m/activities/?tab=mine", make_activities),
    ("/m/activities/9001/", make_activity_items),
    ("/m/clockin/", make_activities),
    ("/m/officer/", make_officer_items),
    ("/m/repairs/", make_repairs),
    ("/m/repairs/9002/", make_repair_events),
    ("/m/guides/", make_guides),
    ("/m/me/devices/", make_tokens),
]


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


@pytest.mark.parametrize(("url", "make"), CASES, ids=[c[0] for c in CASES])
def test_query_count_does_not_grow_with_the_list(browser_for, student, url, make):
    client = browser_for(student)
    make(student, 1)
    client.get(url)  # the first visit may write once (a message marked read on open)
    one = count(client, url)
    make(student, 4)
    five = count(client, url)
    assert five == one, f"{url}: {one} queries with one row, {five} with five"


SENDER_CASES = [("/m/sent/", make_sent), ("/m/sent/9007/", make_sent_unread)]


@pytest.mark.parametrize(("url", "make"), SENDER_CASES, ids=[c[0] for c in SENDER_CASES])
def test_a_senders_pages_query_count_does_not_grow_with_the_list(browser_for, url, make):
    sender = UserFactory(is_staff=True, kind="staff")
    client = browser_for(sender)
    make(sender, 1)
    one = count(client, url)
    make(sender, 4)
    five = count(client, url)
    assert five == one, f"{url}: {one} queries with one row, {five} with five"
