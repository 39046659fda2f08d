from datetime import date, timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)
