"""The admin login page renders for a visitor who is not logged in.

Django builds the app list (each admin's ``has_module_permission``) for the login page too, with
an anonymous user: an admin that assumes a real user there breaks the way into the admin.
"""

import pytest


@pytest.mark.django_db
def test_admin_login_page_renders_for_anonymous_visitors(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
