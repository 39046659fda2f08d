"""Rotating QR clock-in: steps, forgeries, windows, enrollment, location, duplicates (also concurrent)."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from activities import qr
from activities.models import ClockinRecord, EnrollmentStatus
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from conftest import client_for

pytestmark = pytest.mark.django_db
SCAN = "/activities/clockins/"


@pytest.fixture
def enrolled(user, activity):
    return EnrollmentFactory(activity=activity, user=user)


def scan(client, key, **extra):
    return client.post(SCAN, {"key": key, **extra}, format="json")


def test_scan_url_is_the_named_route():
    assert reverse("activities:clockin-scan") == SCAN


def test_code_works_from_the_first_second_of_a_new_item(api_client, enrolled, activity):
    item = ClockinItemFactory(activity=activity, label="签到")

    response = scan(api_client, qr.make_key(item.pk))

    assert response.status_code == 200
    assert ClockinRecord.objects.filter(item=item, user=enrolled.user).count() == 1


def test_current_and_previous_step_are_accepted_older_refused(make_client, activity, sign_in):
    clients = []
    for _ in range(3):
        person = UserFactory()
        EnrollmentFactory(activity=activity, user=person)
        clients.append(client_for(person))
    step = qr.current_step()

    assert scan(clients[0], qr.make_key(sign_in.pk, step=step)).status_code == 200
    assert scan(clients[1], qr.make_key(sign_in.pk, step=step - 1)).status_code == 200
    old = scan(clients[2], qr.make_key(sign_in.pk, step=step - 2))
    assert old.status_code == 400
    assert old.data == {"detail": "打卡二维码已过期，请重试。", "error_code": "qr_expired"}


def test_a_code_shown_25_seconds_ago_still_counts_50_seconds_ago_does_not(api_client, enrolled, sign_in):
    shown_at = timezone.now()
    key = qr.make_key(sign_in.pk)
    with time_machine.travel(shown_at + timedelta(seconds=qr.step_seconds()), tick=False):
        assert scan(api_client, key).status_code == 200
    ClockinRecord.objects.all().delete()
    with time_machine.travel(shown_at + timedelta(seconds=2 * qr.step_seconds() + 1), tick=False):
        assert scan(api_client, key).data == {
            "detail": "打卡二维码已过期，请重试。",
            "error_code": "qr_expired",
        }


@pytest.mark.parametrize(
    "key",
    [
        "",
        "None",
        "HHUCK1.1.2.",
        "eyJhY3Rpdml0eV9pZCI6IDEsICJsYWJlbCI6ICJcdTdiN2VcdTUyMzAifQ==",  # the original's format
        "HHUCK1.abc.1.AAAAAAAAAAAAAAAAAAAAAA",
        "x" * 5000,
    ],
)
def test_malformed_codes_are_refused_clearly(api_client, enrolled, sign_in, key):
    response = scan(api_client, key)
    assert response.status_code == 400
    assert response.data == {"detail": "打卡二维码异常或已过期，请重试。", "error_code": "qr_invalid"}


def test_forged_signature_is_refused(api_client, enrolled, sign_in):
    key = qr.make_key(sign_in.pk)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    assert scan(api_client, forged).data == {
        "detail": "打卡二维码异常或已过期，请重试。",
        "error_code": "qr_invalid",
    }


def test_another_items_code_cannot_be_relabelled(api_client, enrolled, activity, sign_in):
    other = ClockinItemFactory(activity=activity, label="签退")
    prefix, _, step, signature = qr.make_key(other.pk).split(".")
    relabelled = ".".join([prefix, str(sign_in.pk), step, signature])

    assert scan(api_client, relabelled).data == {
        "detail": "打卡二维码异常或已过期，请重试。",
        "error_code": "qr_invalid",
    }
    assert not ClockinRecord.objects.exists()


def test_a_code_from_the_future_is_refused(api_client, enrolled, sign_in):
    response = scan(api_client, qr.make_key(sign_in.pk, step=qr.current_step() + 5))
    assert response.data == {"detail": "打卡二维码异常或已过期，请重试。", "error_code": "qr_invalid"}


def test_secret_change_invalidates_codes(api_client, enrolled, sign_in, settings):
    key = qr.make_key(sign_in.pk)
    settings.ACTIVITIES_CLOCKIN_SECRET = "another-secret"
    assert scan(api_client, key).status_code == 400


def test_outside_the_window(api_client, enrolled, activity):
    later = ClockinItemFactory(
        activity=activity,
        from_time=timezone.now() + timedelta(hours=1),
        to_time=timezone.now() + timedelta(hours=2),
    )
    assert scan(api_client, qr.make_key(later.pk)).data == {
        "detail": "打卡时间不在指定的时间范围内。",
        "error_code": "out_of_window",
    }


def test_not_enrolled(api_client, sign_in):
    assert scan(api_client, qr.make_key(sign_in.pk)).data == {
        "detail": "您尚未报名该活动，无法进行本次打卡。",
        "error_code": "not_enrolled",
    }


def test_waiting_list_cannot_clock_in(api_client, user, activity, sign_in):
    EnrollmentFactory(activity=activity, user=user, status=EnrollmentStatus.WAITING)
    response = scan(api_client, qr.make_key(sign_in.pk))
    assert response.status_code == 400
    assert "候补" in response.data["detail"]


def test_duplicate_scan_gives_one_record_and_says_so(api_client, enrolled, sign_in):
    first = scan(api_client, qr.make_key(sign_in.pk))
    again = scan(api_client, qr.make_key(sign_in.pk))

    assert first.status_code == again.status_code == 200
    assert first.data["already_clocked_in"] is False
    assert again.data["already_clocked_in"] is True
    assert again.data["detail"].startswith("已存在该打卡记录。")
    assert again.data["label"] == "签到"
    assert again.data["clocked_at"] == first.data["clocked_at"]
    assert ClockinRecord.objects.count() == 1


def test_geofence_requires_and_checks_the_location(api_client, enrolled, activity, sign_in):
    activity.latitude, activity.longitude, activity.geofence_radius = 31.9306, 118.8710, 200
    activity.save()
    key = qr.make_key(sign_in.pk)

    assert "位置" in scan(api_client, key).data["detail"]
    far = scan(api_client, key, latitude=31.95, longitude=118.87)
    assert far.status_code == 400 and "米" in far.data["detail"]
    assert scan(api_client, key, latitude="abc", longitude=1).data == {
        "detail": "位置信息不合法。",
        "error_code": "location_invalid",
    }
    near = scan(api_client, key, latitude=31.9310, longitude=118.8712)
    assert near.status_code == 200
    record = ClockinRecord.objects.get()
    assert float(record.latitude) == pytest.approx(31.931)


def test_clockin_code_for_officers_only(make_client, activity, sign_in):
    officer, stranger = UserFactory(), UserFactory()
    sign_in.officers.add(officer)
    url = reverse("activities:clockin-code", args=[activity.pk])

    ok = make_client(officer).get(url, {"label": "签到"})
    denied = make_client(stranger).get(url, {"label": "签到"})

    assert ok.status_code == 200
    assert set(ok.data) >= {"key", "label", "expires_in"}
    assert ok.data["label"] == "签到"
    assert qr.check_key(ok.data["key"]).item_id == sign_in.pk
    assert 1 <= ok.data["expires_in"] <= qr.step_seconds()
    assert denied.status_code == 403
    assert make_client(officer).get(url).status_code == 400
    assert make_client(officer).get(url, {"label": "无此项"}).status_code == 404


def test_clockin_list_of_an_invisible_activity_is_404(api_client):
    hidden = ActivityFactory(open_for_enrollment=False)
    assert api_client.get(f"/activities/clockins/{hidden.pk}/").status_code == 404
    assert api_client.get("/activities/clockins/abc/").status_code == 404


def test_clockin_list_query_count_is_constant(api_client, user, activity, count_queries):
    EnrollmentFactory(activity=activity, user=user)
    ClockinItemFactory(activity=activity)
    url = f"/activities/clockins/{activity.pk}/"
    api_client.get(url)
    one = count_queries(lambda: api_client.get(url))
    for _ in range(6):
        ClockinItemFactory(activity=activity)

    assert count_queries(lambda: api_client.get(url)) == one
    assert len(api_client.get(url).data) == 7


# --- Real concurrency (MariaDB) -----------------------------------------------------------------


def _run_in_threads(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_scans_give_one_record_and_clear_answers():
    activity = ActivityFactory()
    item = ClockinItemFactory(activity=activity, label="签到")
    person = UserFactory()
    EnrollmentFactory(activity=activity, user=person)
    clients = [client_for(person, device=f"phone-{i}") for i in range(8)]
    key = qr.make_key(item.pk)

    responses = _run_in_threads(8, lambda i: scan(clients[i], key))

    assert [r.status_code for r in responses] == [200] * 8
    assert sorted(r.data["already_clocked_in"] for r in responses) == [False] + [True] * 7
    assert ClockinRecord.objects.filter(item=item, user=person).count() == 1


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_many_people_scanning_at_once_are_all_recorded_once():
    activity = ActivityFactory()
    item = ClockinItemFactory(activity=activity, label="签到")
    people = [UserFactory() for _ in range(12)]
    for person in people:
        EnrollmentFactory(activity=activity, user=person)
    clients = [client_for(p) for p in people]
    key = qr.make_key(item.pk)

    responses = _run_in_threads(12, lambda i: scan(clients[i], key))

    assert all(r.status_code == 200 and r.data["already_clocked_in"] is False for r in responses)
    assert ClockinRecord.objects.filter(item=item).count() == 12


@pytest.mark.parametrize("body", [[], {}, {"key": None}, {"key": 123}, {"key": ["x"]}])
def test_odd_bodies_get_a_clear_400_never_a_500(api_client, body):
    response = api_client.post(SCAN, body, format="json")
    assert response.status_code == 400
    assert response.data == {"detail": "打卡二维码异常或已过期，请重试。", "error_code": "qr_invalid"}


def test_anonymous_scan_is_401(anon_client, sign_in):
    assert anon_client.post(SCAN, {"key": qr.make_key(sign_in.pk)}, format="json").status_code == 401


# --- The QR code as a URL (phone cameras, WeChat's scanner) and the typed short code -------------


def test_the_mini_program_scanning_the_url_form_clocks_in(api_client, enrolled, sign_in, settings):
    settings.SITE_URL = "https://portal.example.edu.cn"
    url = qr.scan_url(qr.make_key(sign_in.pk))
    assert url.startswith("https://portal.example.edu.cn/m/c/HHUCK1.")

    response = scan(api_client, url)  # what wx.scanCode returns for the projector's code

    assert response.status_code == 200
    assert response.data["label"] == "签到"
    assert ClockinRecord.objects.filter(item=sign_in, user=enrolled.user).count() == 1


@pytest.mark.parametrize(
    "text",
    [
        "https://evil.example/m/c/HHUCK1.1.2.AAAAAAAAAAAAAAAAAAAAAA/",  # forged signature
        "https://portal.example.edu.cn/m/x/{key}/",  # another path
        "ftp://portal.example.edu.cn/m/c/{key}/",
        "https://portal.example.edu.cn/m/c/{key}/extra/",
    ],
)
def test_urls_that_are_not_our_qr_code_are_refused(api_client, enrolled, sign_in, text):
    response = scan(api_client, text.format(key=qr.make_key(sign_in.pk)))
    assert response.data == {"detail": "打卡二维码异常或已过期，请重试。", "error_code": "qr_invalid"}


def test_the_officers_code_carries_the_url_and_the_short_code(make_client, activity, sign_in):
    officer = UserFactory()
    sign_in.officers.add(officer)
    data = (
        make_client(officer)
        .get(reverse("activities:clockin-code", args=[activity.pk]), {"label": "签到"})
        .data
    )
    assert data["url"] == qr.scan_url(data["key"])
    assert data["short_code"] == qr.short_code(sign_in.pk)
    assert len(data["short_code"]) == 6 and data["short_code"].isdigit()


def test_short_code_clocks_in_for_the_current_and_previous_step_only(user, enrolled, activity, sign_in):
    from activities import services
    from wechathhu.core.errors import ApplicationError

    step = qr.current_step()
    result = services.clockin_with_code(
        user=user, activity_id=activity.pk, code=qr.short_code(sign_in.pk, step=step - 1)
    )
    assert result.created and result.record.item == sign_in
    ClockinRecord.objects.all().delete()
    with pytest.raises(ApplicationError, match="打卡码不正确"):
        services.clockin_with_code(
            user=user, activity_id=activity.pk, code=qr.short_code(sign_in.pk, step=step - 2)
        )
    with pytest.raises(ApplicationError, match="打卡码不正确"):
        services.clockin_with_code(user=user, activity_id=activity.pk, code="12 34 5x")


def test_short_code_of_another_activity_does_not_count(user, enrolled, activity, sign_in):
    from activities import services
    from wechathhu.core.errors import ApplicationError

    elsewhere = ClockinItemFactory(activity=ActivityFactory(), label="签到")
    with pytest.raises(ApplicationError, match="打卡码不正确"):
        services.clockin_with_code(user=user, activity_id=activity.pk, code=qr.short_code(elsewhere.pk))
    assert not ClockinRecord.objects.exists()
