import pytest

from activities.tests.factories import ActivityFactory, ClockinItemFactory


@pytest.fixture
def activity(db):
    return ActivityFactory()


@pytest.fixture
def sign_in(activity):
    return ClockinItemFactory(activity=activity, label="签到")


@pytest.fixture
def count_queries():
    """How many queries ``fn()`` runs (call it once before, so one-off work like a token touch is done)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(fn):
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    return count
