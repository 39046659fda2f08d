"""Hostile shapes on the API (issue 16 items 15–17): deep nesting, huge numbers."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from accounts.tests.factories import UserFactory
from activities.models import Enrollment
from activities.tests.factories import ActivityFactory
from conftest import client_for

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def _json_operations():
    schema = yaml.safe_load((Path(settings.BASE_DIR) / "schema" / "openapi.yaml").read_text())
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                yield method, re.sub(r"\{[^}]+\}", "1", path)


JSON_OPERATIONS = sorted(set(_json_operations()))


@pytest.fixture
def root_client(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min"
        ),
    }
    return client_for(UserFactory(is_staff=True, is_superuser=True, kind="staff"))


def test_every_json_operation_is_listed():
    assert ("post", "/auth/get-token/") in JSON_OPERATIONS
    assert ("post", "/enrollments/") in JSON_OPERATIONS
    assert len(JSON_OPERATIONS) > 20


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(root_client, body):
    """Item 16: ~1 000 levels (2 KB) were a RecursionError, a 500, everywhere."""
    failures = {}
    for method, path in JSON_OPERATIONS:
        response = getattr(root_client, method)(path, data=body, content_type="application/json")
        if response.status_code >= 500 or response.status_code == 200 or response.status_code == 201:
            failures[f"{method} {path}"] = response.status_code
    assert not failures


@pytest.mark.parametrize("path", ["/auth/get-token/", "/auth/wechat-code2token/", "/auth/claim/"])
def test_deeply_nested_json_at_login_is_a_400(anon_client, path):
    response = anon_client.post(path, data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "嵌套" in response.json()["detail"]


def test_deeply_nested_json_in_the_envelope(root_client):
    response = root_client.post("/api/v1/admin/messages", data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == 400 and "嵌套" in response.json()["message"]


def test_deeply_nested_answers_string_is_a_400(api_client):
    activity = ActivityFactory()
    response = api_client.post(
        "/enrollments/", {"activity": activity.pk, "participating_metas": DEEP_OBJECT}, format="json"
    )
    assert response.status_code == 400
    assert not Enrollment.objects.exists()
