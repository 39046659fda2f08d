import pytest
from django.test import Client

from accounts.tests.factories import StudentFactory, UserFactory


@pytest.fixture
def student(db):
    return StudentFactory()


@pytest.fixture
def teacher(db):
    return UserFactory()


@pytest.fixture
def browser_for(db):
    """A Django test client signed in as ``user`` with a real session (as a browser would be)."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def page(browser_for, student):
    return browser_for(student)
