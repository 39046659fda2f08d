"""Issue 16 item 20: the admin's 500s on bad input, each now a form error or a 400."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DepartmentFactory
from activities.models import Activity
from messaging.models import Message
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory

pytestmark = pytest.mark.django_db

HUGE_ID = "9" * 25


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("day", ["2026-02-30", "0001-01-01", "9999-12-31", "2026-13-01"])
def test_calendar_with_an_impossible_or_extreme_date_shows_today_and_says_why(admin_client, day):
    response = admin_client.get(reverse("admin:reservations_calendar"), {"date": day})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert "日期不合法" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31", "granularity": "day"},
        {"date_from": "2000-01-01", "date_to": "2099-12-31", "granularity": "day"},
    ],
)
def test_message_report_with_extreme_years_is_a_form_error(admin_client, params):
    response = admin_client.get(reverse("admin:messaging_message_report"), params)
    assert response.status_code == 200
    assert response.context["form"].errors


def test_form_metas_nested_1000_deep_is_a_form_error(admin_client):
    from activities.tests.test_admin import _activity_post

    deep = '{"a":' * 1000 + "1" + "}" * 1000
    response = admin_client.post(reverse("admin:activities_activity_add"), _activity_post(form_metas=deep))
    assert response.status_code == 200
    assert "嵌套" in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_message_published_in_year_1_or_9999_is_a_form_error(admin_client, date):
    from messaging.tests.test_admin import ADD, compose

    response = admin_client.post(ADD, compose(is_global="on", published_at_0=date, published_at_1="00:00:00"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get("published_at")
    assert not Message.objects.exists()


def test_an_id_beyond_the_column_in_a_form_is_a_form_error_or_400(admin_client):
    room = MeetingroomFactory()
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    data = {
        "meetingroom": HUGE_ID,
        "user": HUGE_ID,
        "reserve_from_0": tomorrow.isoformat(),
        "reserve_from_1": "10:00:00",
        "reserve_to_0": tomorrow.isoformat(),
        "reserve_to_1": "11:00:00",
        "description": "组会",
    }
    response = admin_client.post(reverse("admin:reservations_reservation_add"), data)
    assert response.status_code in (200, 400)
    assert not Reservation.objects.exists()
    assert room.pk  # the room exists; the id sent is another
    response = admin_client.post(reverse("admin:accounts_user_add"), {"department": HUGE_ID, "username": "x"})
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "params",
    [
        {"created_at__year": "1"},
        {"created_at__year": "99999999999"},
        {"created_at__gte": "0001-01-01"},
        {"created_at__gte": "99999999999-01-01"},
        {"id__exact": HUGE_ID},
    ],
)
def test_django_lookups_with_extreme_values_are_not_500(admin_client, params):
    DepartmentFactory()
    response = admin_client.get(reverse("admin:accounts_department_changelist"), params)
    assert response.status_code in (200, 302, 400)
    response = admin_client.get(reverse("admin:messaging_message_changelist"), params)
    assert response.status_code in (200, 302, 400)
