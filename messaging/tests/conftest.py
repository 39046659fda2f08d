import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory


def grant(user, codename):
    user.user_permissions.add(Permission.objects.get(content_type__app_label="messaging", codename=codename))
    return type(user).objects.get(pk=user.pk)  # fresh instance: permission cache


@pytest.fixture
def teacher(db):
    return UserFactory(kind="teacher")


@pytest.fixture
def counsellor(db):
    """A teacher granted ``messaging.send`` by staff."""
    return grant(UserFactory(kind="teacher"), "send")


@pytest.fixture
def superuser_client(make_client, superuser):
    return make_client(superuser, keyword="Bearer")


@pytest.fixture
def bearer(make_client):
    def _client(user):
        return make_client(user, keyword="Bearer")

    return _client
