"""Serializers that build their fields once per class, each instance binding its own copies."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from accounts.api.serializers import DepartmentSerializer, UserSerializer
from accounts.tests.factories import DepartmentFactory, UserFactory
from activities.api.serializers import ActivityListSerializer, ActivitySerializer
from guides.api.serializers import GuideSerializer
from repairs.api.serializers import CategorySerializer
from wechathhu.api.serializers import FieldsOnceMixin

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "serializer_class",
    [UserSerializer, DepartmentSerializer, CategorySerializer, ActivityListSerializer, GuideSerializer],
)
def test_the_hot_answers_build_their_fields_once(serializer_class, monkeypatch):
    assert issubclass(serializer_class, FieldsOnceMixin)
    serializer_class().fields  # noqa: B018 - the first one builds
    built = []
    original = serializers.ModelSerializer.build_field
    monkeypatch.setattr(
        serializers.ModelSerializer,
        "build_field",
        lambda self, *args, **kwargs: built.append(args[0]) or original(self, *args, **kwargs),
    )
    for _ in range(3):
        assert serializer_class().fields
    assert built == []


def test_each_instance_binds_its_own_fields_to_its_own_request(settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    user = UserFactory(department=DepartmentFactory(name="计算机系"))
    user.avatar.name = "avatars/2026/12/abcdef.jpg"
    factory = APIRequestFactory()
    one = UserSerializer(user, context={"request": factory.get("/", HTTP_HOST="one.example")})
    two = UserSerializer(user, context={"request": factory.get("/", HTTP_HOST="two.example")})
    assert one.data["avatar"].startswith("http://one.example/")
    assert two.data["avatar"].startswith("http://two.example/")
    assert one.fields["avatar"] is not two.fields["avatar"]
    assert one.fields["avatar"].parent is one and two.fields["department"].parent is two
    assert one.data["department"] == {"id": user.department_id, "name": "计算机系"}
    # What is kept for the class was never bound to anyone.
    assert all(getattr(f, "parent", None) is None for f in UserSerializer._fields_prototype.values())


def test_method_fields_and_lists_still_work(user):
    from activities.selectors import activity_list_for_user
    from activities.tests.factories import ActivityFactory

    ActivityFactory(), ActivityFactory()
    activities = list(activity_list_for_user(user=user))
    rows = ActivitySerializer(activities, many=True, context={}).data
    assert [row["id"] for row in rows] == [a.pk for a in activities] and len(rows) == 2
    assert {row["state"] for row in rows} <= {
        "enrolling",
        "full",
        "not_started",
        "enrollment_closed",
        "closed",
        "ended",
    }
    assert (
        ActivityListSerializer(activities[0], context={}).data.keys()
        == ActivityListSerializer().fields.keys()
    )
    assert "form_metas" not in ActivityListSerializer().fields and "form_metas" in ActivitySerializer().fields


def test_fields_with_children_get_their_own_children():
    one, two = UserSerializer(), UserSerializer()
    groups_one, groups_two = one.fields["groups"], two.fields["groups"]
    assert groups_one.child_relation is not groups_two.child_relation
    assert groups_one.child_relation.parent is groups_one and groups_one.parent is one
    assert one.fields["department"].fields["name"].root is one


def test_the_schema_still_describes_them(client):
    assert client.get("/api/schema/").status_code == 200
