"""accounts.demo.seed: the demo directory, classes, groups and friendships; idempotent."""

import io

import pytest

from accounts import demo
from accounts.models import CampusGroup, Friendship, GroupMembership, SchoolClass, User, Visibility

pytestmark = pytest.mark.django_db


def counts():
    return (
        User.objects.count(),
        SchoolClass.objects.count(),
        GroupMembership.objects.count(),
        Friendship.objects.count(),
    )


def test_seed_builds_the_demo_directory_and_is_idempotent(anon_client):
    lines = demo.seed(io.StringIO())
    first = counts()
    demo.seed(io.StringIO())
    assert counts() == first
    assert any("T1001" in line for line in lines)

    for username in (demo.ADMIN_USERNAME, demo.DEMO_TEACHER, demo.DEMO_STUDENT):
        response = anon_client.post(
            "/auth/get-token/", {"username": username, "password": demo.DEMO_PASSWORD}
        )
        assert response.status_code == 201, username

    assert (
        SchoolClass.objects.filter(counsellors__isnull=False, head_teacher__isnull=False).distinct().count()
        == 10
    )
    assert not User.objects.filter(kind="student", school_class__isnull=True).exists()
    union = CampusGroup.objects.get(name="学生会")
    assert union.memberships.filter(title="主席", is_manager=True).exists()
    assert GroupMembership.objects.filter(group__name="2024级班干部", title__endswith="班长").count() == 10
    assert Friendship.objects.filter(user__username=demo.DEMO_TEACHER).count() >= 3
    assert User.objects.filter(phone_visibility=Visibility.NOBODY).exists()
    assert User.objects.filter(wechat_visibility=Visibility.EVERYONE).exists()
