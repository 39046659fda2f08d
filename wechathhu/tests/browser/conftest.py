"""Real-browser fixtures: Debian's Chromium, headless, driven by Playwright against ``live_server``.

One browser for the suite, one page (in its own context: cookies do not leak between tests) per
test. Every test saves a screenshot of its final state into ``test-artifacts/screenshots/``,
and a failing test one of where it stopped, so a CI run can be looked at afterwards.

The browser is the system's (``scripts/browser-deps.sh`` installs it); Playwright never downloads
one. Where it is missing the tests are skipped with that reason — which CI refuses (root
conftest), so CI always runs them.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("BROWSER_TESTS_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous for a loaded 2-core machine; a real failure still shows within seconds.
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: run scripts/browser-deps.sh to install Chromium")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="package")
def browser():
    """One browser for the whole browser suite, closed when it is done.

    Package-scoped (this package is the suite): while Playwright runs, its event loop is the main
    thread's running loop, which other tests must not inherit. For the same reason Django's
    async-safety check is off meanwhile: it would refuse the ORM calls of the tests' set-up and
    assertions, which are plain synchronous code between browser steps.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()
    finally:
        if saved is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def page(browser, live_server, request):
    """A fresh page (own cookies) on the live server, with a screenshot saved when the test ends."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def snapshot(step, of=None):
        """Save a screenshot of a state worth seeing besides the final one (``of``: another tab)."""
        (of or page).screenshot(path=SCREENSHOTS / f"{name}-{step}.png", full_page=True)

    page.snapshot = snapshot
    yield page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if not failed:  # a failure's picture from an earlier run would mislead
        (SCREENSHOTS / f"{name}-FAILED.png").unlink(missing_ok=True)
    try:
        page.screenshot(path=SCREENSHOTS / f"{name}{'-FAILED' if failed else ''}.png", full_page=True)
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.fixture
def admin_login(page, password):
    """Log ``user`` in through the real admin login form; the page is left on the admin index."""

    def login(user):
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        return page

    return login
