"""Every page renders for a signed-in student; anonymous visitors are sent to the login page."""

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/m/",
    "/m/services/",
    "/m/me/",
    "/m/me/profile/",
    "/m/me/card/",
    "/m/me/avatar/",
    "/m/me/devices/",
    "/m/messages/",
    "/m/contacts/",
    "/m/groups/",
    "/m/rooms/",
    "/m/rooms/search/",
    "/m/rooms/mine/",
    "/m/rooms/series/",
    "/m/rooms/series/new/",
    "/m/activities/",
    "/m/clockin/",
    "/m/officer/",
    "/m/repairs/",
    "/m/repairs/new/",
    "/m/guides/",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_with_the_portal_headers(page, url):
    response = page.get(url)
    assert response.status_code == 200, response.content[:2000]
    assert "HX-Request" in response["Vary"]
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert b'hx-history="false"' in response.content
    assert b"<main" in response.content


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/m/login/?next=")
