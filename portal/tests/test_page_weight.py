"""Issue 15 item 5's budget: the first load of every page, with a cold cache, is under 100 KB
transferred — the HTML as the server sends it (gzip asked for, as a browser does) plus every
stylesheet, script and image of the project's own it names, gzip-compressed as the static files
are served (whitenoise serves the pre-compressed copies). The bench measures the same on its
data set over HTTP (``bench/pages.py``); this runs on every test run."""

import gzip
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import timezone

from accounts.tests.factories import FriendshipFactory, SchoolClassFactory, UserFactory
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from guides.tests.factories import GuideFactory
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from repairs.tests.factories import RepairRequestFactory
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db

BUDGET = 100 * 1024
ASSET_RE = re.compile(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src)="(/static/[^"?#]+)')


def _static_bytes(url: str) -> bytes:
    """A static file's bytes by its URL (a hashed name maps back to its source file)."""
    name = url.removeprefix("/" + settings.STATIC_URL.strip("/") + "/")
    path = finders.find(name) or finders.find(re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", name))
    assert path, f"{url} is named by a page but not found among the static files"
    with open(path, "rb") as file:
        return file.read()


def first_load_bytes(client, url: str) -> tuple[int, dict[str, int]]:
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT="text/html")
    assert response.status_code == 200, url
    raw = response.content
    html = gzip.decompress(raw) if response.get("Content-Encoding") == "gzip" else raw
    sizes = {"html": len(raw) if response.get("Content-Encoding") == "gzip" else len(gzip.compress(raw))}
    for asset in sorted(set(ASSET_RE.findall(html.decode()))):
        sizes[asset] = len(gzip.compress(_static_bytes(asset), compresslevel=9))
    return sum(sizes.values()), sizes


def _managed_group(user):
    from accounts.tests.factories import CampusGroupFactory, GroupMembershipFactory

    group = CampusGroupFactory()
    GroupMembershipFactory(group=group, user=user, is_manager=True)
    for _ in range(30):
        GroupMembershipFactory(group=group)
    return group


@pytest.fixture
def world(student):
    """Every page with something on it: lists a page long, one object of each kind."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    for i in range(20):
        MessageRecipientFactory(
            recipient=student, message=MessageFactory(title=f"通知{i}", content="内容" * 200)
        )
        FriendshipFactory(user=student, friend=UserFactory(department=student.department))
        room = MeetingroomFactory(location="勤学楼 4 楼")
        ReservationFactory(
            user=student,
            meetingroom=room,
            reserve_from=local(tomorrow, f"{8 + i % 10}:00"),
            reserve_to=local(tomorrow, f"{8 + i % 10}:30"),
        )
        EnrollmentFactory(user=student, activity=ActivityFactory())
        RepairRequestFactory(user=student)
        GuideFactory()
    activity = ActivityFactory(name="讲座")
    ClockinItemFactory(activity=activity)
    return {
        "message": MessageRecipientFactory(recipient=student, message=MessageFactory()).message_id,
        "friend": FriendshipFactory(user=student, friend=UserFactory()).friend_id,
        "activity": activity.pk,
        "repair": RepairRequestFactory(user=student).pk,
        "guide": GuideFactory().pk,
        "day": tomorrow.isoformat(),
        "group": _managed_group(student).pk,
    }


def test_the_first_load_of_every_page_is_under_100_kb(page, client, world):
    day = world["day"]
    urls = [
        "/m/",
        "/m/services/",
        "/m/messages/",
        f"/m/messages/{world['message']}/",
        "/m/messages/preferences/",
        "/m/contacts/",
        "/m/contacts/?q=zhang&scope=all",
        f"/m/contacts/{world['friend']}/",
        "/m/groups/",
        f"/m/groups/{world['group']}/?q=zhang",
        f"/m/rooms/?date={day}",
        f"/m/rooms/search/?date={day}&time_from=08:00&time_to=18:00&length=60",
        "/m/rooms/search/",
        "/m/rooms/mine/",
        "/m/rooms/series/",
        "/m/rooms/series/new/",
        "/m/activities/",
        f"/m/activities/{world['activity']}/",
        f"/m/activities/{world['activity']}/enroll/",
        "/m/clockin/",
        "/m/officer/",
        "/m/repairs/",
        "/m/repairs/new/",
        f"/m/repairs/{world['repair']}/",
        "/m/guides/",
        f"/m/guides/{world['guide']}/",
        "/m/me/",
        "/m/me/profile/",
        "/m/me/card/",
        "/m/me/avatar/",
        "/m/me/devices/",
    ]
    weights = {url: first_load_bytes(page, url) for url in urls}
    weights["/m/login/"] = first_load_bytes(client, "/m/login/")  # before signing in
    counsellor = UserFactory()
    SchoolClassFactory().counsellors.add(counsellor)
    client.force_login(counsellor)
    for url in ("/m/compose/", "/m/sent/"):  # the teachers' side
        weights[url] = first_load_bytes(client, url)
    over = {url: sizes for url, (total, sizes) in weights.items() if total >= BUDGET}
    assert not over, f"over {BUDGET // 1024} KB on first load: {over}"
    # The shared assets are most of it: they are counted on every page, as a cold cache pays them.
    assert all("html" in sizes and len(sizes) >= 2 for _, sizes in weights.values())
