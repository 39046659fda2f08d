"""Issue 16 item 18: every free-text field has a length limit — in the model (admin forms and
``full_clean`` in the services), and in what the API accepts."""

import pytest
from django.apps import apps
from django.core.validators import MaxLengthValidator
from django.db import models

from accounts.tests.factories import UserFactory

# Written by the official account's webhook from what WeChat sends (its own size limits), never typed here.
MACHINE_WRITTEN = {("official", "InboundMessage", "content"), ("official", "InboundMessage", "reply")}
PROJECT_APPS = {
    "accounts",
    "activities",
    "reservations",
    "repairs",
    "guides",
    "messaging",
    "official",
    "core",
}


def test_every_text_field_has_a_length_limit():
    unbounded = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.get_fields():
            if not isinstance(field, models.TextField):
                continue
            key = (model._meta.app_label, model.__name__, field.name)
            if key in MACHINE_WRITTEN:
                continue
            if not field.max_length or not any(isinstance(v, MaxLengthValidator) for v in field.validators):
                unbounded.append(key)
    assert not unbounded


@pytest.mark.django_db
def test_a_huge_card_description_is_refused_and_the_directory_stays_small(make_client):
    me = UserFactory()
    client = make_client(me)
    card = client.get("/current-user/meta/").json()

    response = client.put("/current-user/meta/", {**card, "description": "字" * 100_000}, format="json")

    assert response.status_code == 400
    assert "description" in response.json()
    me.refresh_from_db()
    assert me.description == ""
    assert (
        client.put("/current-user/meta/", {**card, "description": "字" * 500}, format="json").status_code
        == 200
    )


@pytest.mark.django_db
def test_a_huge_booking_reason_or_activity_text_is_refused_by_full_clean():
    from django.core.exceptions import ValidationError

    from activities.tests.factories import ActivityFactory

    activity = ActivityFactory.build(description="x" * 5001)
    with pytest.raises(ValidationError) as error:
        activity.full_clean(exclude=["audience_departments"])
    assert "description" in error.value.message_dict
