"""Bad input on any page is a form error (or a 404 for an object that is not there), never a 500:
absurd numbers, dates, sizes and characters in every query parameter and form field."""

import pytest
from django.urls import URLPattern, get_resolver

from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from guides.tests.factories import GuideFactory
from repairs.tests.factories import RepairRequestFactory
from reservations.tests.factories import MeetingroomFactory

pytestmark = pytest.mark.django_db

JUNK = [
    "",
    "1e400",
    "9" * 5000,
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59+14:00",
    '{"a": 1}',
    "\x00\x01",
    "🙂" * 300,
    "' OR 1=1 --",
]
FIELDS = [
    "q",
    "scope",
    "page",
    "date",
    "location",
    "time_from",
    "time_to",
    "length",
    "people_count",
    "label",
    "room",
    "start",
    "end",
    "description",
    "tab",
    "type",
    "priority",
    "is_read",
    "is_archived",
    "search",
    "category_id",
    "username",
    "password",
    "name",
    "claim_code",
    "new_password",
    "next",
    "title",
    "content",
    "class_ids",
    "group_ids",
    "department_ids",
    "published_at",
    "code",
    "latitude",
    "longitude",
    "action",
    "rating",
    "comment",
    "reason",
    "f0",
    "f1",
    "f2",
    "f3",
    "join_waiting_list",
    "kind",
    "id",
    "remove",
    "followed",
    "quiet_hours_start",
    "quiet_hours_end",
    "preferred_channel",
    "digest_enabled",
    "digest_time",
    "first_name",
    "last_name",
    "email",
    "department",
    "old_password",
    "post",
    "phone",
    "post_visibility",
    "frequency",
    "weekdays",
    "start_date",
    "until",
    "count",
    "start_time",
    "end_time",
    "on_conflict",
    "from_date",
    "user_id",
]


def _series(user):
    from datetime import time, timedelta

    from django.utils import timezone

    from reservations.services import series_create

    return series_create(
        user=user,
        meetingroom=MeetingroomFactory(),
        description="例会",
        frequency="weekly",
        weekdays=[1, 3],
        start_date=timezone.localdate() + timedelta(days=1),
        until=None,
        count=4,
        start_time=time(9, 0),
        end_time=time(10, 0),
    ).series


def _group(user):
    from accounts.tests.factories import CampusGroupFactory, GroupMembershipFactory

    group = CampusGroupFactory()
    GroupMembershipFactory(group=group, user=user, is_manager=True)
    return group


def portal_urls(student) -> list[str]:
    activity = ActivityFactory()
    EnrollmentFactory(activity=activity, user=student)
    item = ClockinItemFactory(activity=activity)
    item.officers.add(student)
    ids = {
        "pk": activity.pk,
        "user_id": student.pk,
        "item_id": item.pk,
        "key": "HHUCK1.1.1.x",
        "group_id": _group(student).pk,
    }
    special = {
        "repair": RepairRequestFactory(user=student).pk,
        "guide": GuideFactory().pk,
        "series": _series(student).pk,
    }
    MeetingroomFactory()
    urls = []
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) != "portal":
            continue
        for inner in pattern.url_patterns:
            assert isinstance(inner, URLPattern)
            route = "/m/" + str(inner.pattern)
            name = inner.name
            for key, value in ids.items():
                pk = special.get(name, value) if key == "pk" else value
                route = route.replace(f"<int:{key}>", str(pk)).replace(f"<str:{key}>", str(pk))
            urls.append(route)
    return urls


@pytest.mark.parametrize("junk", JUNK)
def test_no_page_answers_500_to_junk(page, student, junk):
    for url in portal_urls(student):
        if url == "/m/logout/":
            continue
        data = dict.fromkeys(FIELDS, junk)
        got = page.get(url, data)
        assert got.status_code < 500, (url, "GET", junk)
        posted = page.post(url, data)
        assert posted.status_code < 500, (url, "POST", junk)
