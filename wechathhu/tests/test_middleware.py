"""Token clients go through only the middleware they need; browsers keep the whole stack."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_a_token_request_skips_language_login_and_messages(api_client):
    response = api_client.get("/current-user/")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "_messages") and not hasattr(request, "LANGUAGE_CODE")
    assert not request.session.accessed  # lazy, untouched
    assert "Content-Language" not in response and "Accept-Language" not in response.get("Vary", "")
    # What every answer keeps: the security headers.
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_token_post_needs_no_csrf_token(api_client):
    api_client.enforce_csrf_checks = True
    assert api_client.post("/auth/logout/").status_code == 204


def test_a_browser_session_keeps_the_whole_stack(staff_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    response = browser.get("/current-user/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["id"] == staff_user.pk
    assert hasattr(response.wsgi_request, "session")
    assert "Accept-Language" in response["Vary"] and response["Content-Language"] == "zh-hans"
    # The browsable API's session writes still need the CSRF token.
    assert browser.post("/auth/logout/").status_code == 403


def test_the_admin_keeps_its_session_even_with_a_token_header(staff_user, make_client):
    token = make_client(staff_user).token
    browser = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    browser.force_login(staff_user)
    assert browser.get("/admin/").status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Token {token.key}").get("/admin/").status_code == 302  # to login


def test_the_mini_programs_token_null_is_anonymous(anon_client):
    response = anon_client.get("/current-user/", HTTP_AUTHORIZATION="Token null")
    assert response.status_code == 401
    assert response.json()["detail"] == "身份认证信息未提供。"


def test_the_bench_ceiling_is_a_bare_view_served_only_when_switched_on(settings, client):
    settings.BENCH_CEILING = False
    assert client.get("/bench/ceiling").status_code == 404
    settings.BENCH_CEILING = True
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/bench/ceiling", HTTP_AUTHORIZATION="Bearer whatever")
    assert response.status_code == 200 and response.json()["code"] == 200
    assert len(queries) == 0
