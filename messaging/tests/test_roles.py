import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.tests.factories import DepartmentFactory, UserFactory
from messaging.roles import SENDER_GROUP, SENDER_PERMISSIONS, ensure_sender_group

pytestmark = pytest.mark.django_db


def test_the_sender_group_exists_after_migrate_with_its_permissions():
    group = Group.objects.get(name=SENDER_GROUP)
    held = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert held == set(SENDER_PERMISSIONS)
    assert ensure_sender_group().pk == group.pk  # idempotent


def test_a_counsellor_in_the_group_can_compose_and_pick_audiences(client):
    counsellor = UserFactory(is_staff=True)  # staff status only opens the admin; rights come from the group
    DepartmentFactory(name="软件工程系")
    client.force_login(counsellor)
    query = {
        "app_label": "messaging",
        "model_name": "message",
        "field_name": "audience_departments",
        "term": "软件",
    }
    assert client.get(reverse("admin:autocomplete"), query).status_code == 403  # not yet a sender

    counsellor.groups.add(Group.objects.get(name=SENDER_GROUP))
    assert client.get(reverse("admin:messaging_message_add")).status_code == 200
    picked = client.get(reverse("admin:autocomplete"), query)
    assert picked.status_code == 200
    assert [r["text"] for r in picked.json()["results"]] == ["软件工程系"]
