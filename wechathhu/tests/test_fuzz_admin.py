"""Admin-page fuzz (issue 16 item 20 and "Must show"): every changelist's filters, search and date
hierarchy, Django's own field lookups and every custom admin view, sent the hostile shapes (huge
exponents, deep nesting, long digit runs, extreme and impossible dates, ids beyond any column).
No answer may be a 5xx: a bad value is a form error, a redirect with ``?e=1`` or a 400.

Bounded for the test command: one request per (page, parameter, shape) on a small data set.
"""

import time

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
HUGE_ID = "9" * 25
SHAPES = ["1e1000000", DEEP, "9" * 5000, "-1", HUGE_ID, "2026-02-30", "0001-01-01", "9999-12-31", "\x00"]
DATES = ["0001-01-01", "9999-12-31", "99999999999-01-01", "2026-02-30", "0001-01-01 00:00:00"]
STANDARD_VIEWS = {"changelist", "add", "change", "delete", "history", "autocomplete"}


@pytest.fixture
def root(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, kind="staff"))
    client.raise_request_exception = False
    return client


def _get(client: Client, url: str, params: dict, failures: list) -> None:
    response = client.get(url, params)
    if response.status_code >= 500:
        failures.append(f"GET {url} {params!r:.120} → {response.status_code}")


def _date_fields(model) -> list[str]:
    return [f.name for f in model._meta.get_fields() if isinstance(f, models.DateField) and f.concrete]


def _filter_parameters(model_admin, user) -> list[str]:
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    return [param for spec in changelist.filter_specs for param in spec.expected_parameters()]


def test_every_changelist_survives_hostile_parameters(root):
    """One request per hostile case, the shapes rotating over the pages (the nightly fuzz of the
    API explores more; this keeps the test command's run short)."""
    started, failures, requests = time.monotonic(), [], 0
    user = UserFactory(is_staff=True, is_superuser=True, kind="staff", username="fuzz-root")
    for n, (model, model_admin) in enumerate(admin.site._registry.items()):
        app, name = model._meta.app_label, model._meta.model_name
        url = reverse(f"admin:{app}_{name}_changelist")
        cases = [{"q": SHAPES[n % 4]}, {"pk__exact": HUGE_ID, "id__in": f"1,{HUGE_ID}"}]
        params = _filter_parameters(model_admin, user)
        cases += [{param: SHAPES[3 + (n + i) % (len(SHAPES) - 3)]} for i, param in enumerate(params)]
        early, late = {}, {}
        if model_admin.date_hierarchy:
            field = model_admin.date_hierarchy
            early[f"{field}__year"] = "1"
            late.update({f"{field}__year": "9999", f"{field}__month": "12", f"{field}__day": "31"})
            if n % 2:
                late = {f"{field}__year": "99999999999"}
        fields = _date_fields(model)
        early.update({f"{field}__gte": DATES[0] for field in fields})
        if fields:
            late[f"{fields[0]}__lt"] = DATES[1 + n % 2]
        cases += [case for case in (early, late) if case]
        for case in cases:
            _get(root, url, case, failures)
            requests += 1
    assert not failures, "\n".join(failures[:40])
    assert requests > 250
    assert time.monotonic() - started < 60


def _custom_admin_urls():
    """The admin's own views beyond Django's standard ones (calendars, reports, QR pages …), as
    (name, number of URL arguments)."""
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if pattern.name.rsplit("_", 1)[-1] in STANDARD_VIEWS or pattern.name in (
                    "index",
                    "login",
                    "logout",
                ):
                    continue
                found.append((pattern.name, len(pattern.pattern.converters)))

    walk(admin.site.get_urls())
    return found


CUSTOM_QUERIES = [
    {"date": "2026-02-30"},
    {"date": "0001-01-01"},
    {"date": "9999-12-31"},
    {"date": DEEP},
    {"year": "1"},
    {"year": "9999"},
    {"year": "99999999999"},
    {"year": "2026", "month": "13"},
    {"month": "0001-01"},
    {"start": "0001-01-01", "end": "9999-12-31"},
    {"from": "0001-01-01", "to": "9999-12-31"},
    {"q": "1e1000000"},
    {"activity": HUGE_ID},
    {"id": HUGE_ID},
    {"week": "99999999999"},
    {"date_from": "0001-01-01"},
    {"date_to": "9999-12-31", "granularity": "month"},
    {"date_from": "0001-01-01", "date_to": "9999-12-31", "granularity": "day"},
    {"view": "month", "date": "9999-12-31"},
    {"view": "week", "date": "0001-01-01"},
]


def test_every_custom_admin_view_survives_hostile_parameters(root):
    failures = []
    names = _custom_admin_urls()
    assert any("calendar" in name for name, _ in names)
    for name, arg_count in names:
        try:
            url = reverse(f"admin:{name}", args=[1] * arg_count)
        except NoReverseMatch:  # noqa: S112 - a view whose arguments are not ids (skipped)
            continue
        for params in CUSTOM_QUERIES:
            _get(root, url, params, failures)
    assert not failures, "\n".join(failures[:40])
