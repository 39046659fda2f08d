import pytest

from activities.tests.factories import ActivityFactory, ClockinItemFactory


@pytest.fixture
def activity(db):
    return ActivityFactory()


@pytest.fixture
def sign_in(activity):
    return ClockinItemFactory(activity=activity, label="签到")
