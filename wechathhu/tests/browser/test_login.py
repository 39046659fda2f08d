"""Logging in to the admin through its real form."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_login_refuses_a_wrong_password_then_lets_staff_in(page, staff_user, password):
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))

    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_contain_text("请输入一个正确的")
    page.snapshot("wrong-password")

    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#user-tools")).to_contain_text(staff_user.first_name)
    assert page.js_errors == []
