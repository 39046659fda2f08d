"""The unionid links a follower and the same person's mini-program account (issue 19).

A follower whose unionid (user info, page OAuth) is a user's mini-program unionid (code2session)
is bound to that user without the claim flow, and a mini-program login whose unionid is an unbound
follower's binds it; a follower bound to someone else, or a user who has a follower, is never
touched. WeChat is the fake server at the HTTP layer, for both the official account and the
mini-program (each with its own app id and token).
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import StudentFactory, UserFactory
from conftest import PASSWORD
from official.models import Follower
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, FollowerFactory, openid

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(settings, official_account):
    """The official account and the mini-program, both against the fake WeChat."""
    settings.WECHAT_ENABLED = True
    settings.WECHAT_APP_ID = "wxmini000000000001"
    settings.WECHAT_APP_SECRET = "mini-secret"
    return official_account


def mini_login(client, fake, code: str, *, openid_mp: str, unionid: str | None):
    fake.js_codes[code] = {"openid": openid_mp, **({"unionid": unionid} if unionid else {})}
    return client.post("/auth/wechat-code2token/", {"code": code})


def page_login(client, fake, *, found: dict, next_url="/m/messages/"):
    start = client.get(reverse("official:oauth-start"), {"next": next_url})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    fake.oauth_codes["PAGE-CODE"] = found
    return client.get(reverse("official:oauth-callback"), {"code": "PAGE-CODE", "state": state})


# --- The mini-program side: a login learns the unionid --------------------------------------------------


def test_a_mini_program_login_stores_the_unionid_and_binds_the_waiting_follower(both, anon_client):
    user = UserFactory(wechat_openid="mp-openid-1")
    follower = FollowerFactory(openid=openid(1), unionid="UNION-1")
    response = mini_login(anon_client, both, "c1", openid_mp="mp-openid-1", unionid="UNION-1")
    assert response.status_code == 201
    user.refresh_from_db()
    follower.refresh_from_db()
    assert user.wechat_unionid == "UNION-1"
    assert follower.user == user and follower.bound_at is not None
    assert any(path == "/sns/jscode2session" for path in both.paths())


def test_a_login_never_takes_a_follower_bound_to_someone_else(both, anon_client):
    user = UserFactory(wechat_openid="mp-openid-2")
    follower = BoundFollowerFactory(openid=openid(2), unionid="UNION-2")
    owner = follower.user
    assert mini_login(anon_client, both, "c2", openid_mp="mp-openid-2", unionid="UNION-2").status_code == 201
    follower.refresh_from_db()
    assert follower.user == owner
    assert User.objects.get(pk=user.pk).wechat_unionid == "UNION-2"  # stored all the same


def test_a_user_who_has_a_follower_keeps_it(both, anon_client):
    mine = BoundFollowerFactory(openid=openid(3), unionid=None)
    mine.user.wechat_openid = "mp-openid-3"
    mine.user.save()
    other = FollowerFactory(openid=openid(4), unionid="UNION-3")
    assert mini_login(anon_client, both, "c3", openid_mp="mp-openid-3", unionid="UNION-3").status_code == 201
    assert Follower.objects.get(user=mine.user).pk == mine.pk
    other.refresh_from_db()
    assert other.user is None


def test_without_a_unionid_nothing_is_linked(both, anon_client):
    user = UserFactory(wechat_openid="mp-openid-5")
    follower = FollowerFactory(openid=openid(5), unionid="UNION-5")
    assert mini_login(anon_client, both, "c5", openid_mp="mp-openid-5", unionid=None).status_code == 201
    follower.refresh_from_db()
    assert follower.user is None and User.objects.get(pk=user.pk).wechat_unionid is None


def test_the_unionid_moves_with_the_wechat_account(both, anon_client):
    """A WeChat account that logs in to another portal account takes its unionid along: one user per
    unionid (a unique column)."""
    first = UserFactory(wechat_openid=None, wechat_unionid="UNION-6")
    second = UserFactory(wechat_openid="mp-openid-6")
    assert mini_login(anon_client, both, "c6", openid_mp="mp-openid-6", unionid="UNION-6").status_code == 201
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.wechat_unionid, second.wechat_unionid) == (None, "UNION-6")


def test_a_mini_program_claim_links_the_follower(both, anon_client):
    imported = StudentFactory(username="S2024777", last_name="曾", first_name="小明")
    follower = FollowerFactory(openid=openid(7), unionid="UNION-7")
    both.js_codes["claim-code"] = {"openid": "mp-openid-7", "unionid": "UNION-7"}
    response = anon_client.post(
        "/auth/claim/",
        {"username": "S2024777", "name": "曾小明", "code": "claim-code", "password": PASSWORD},
    )
    assert response.status_code == 201
    follower.refresh_from_db()
    assert follower.user == imported
    assert User.objects.get(pk=imported.pk).wechat_unionid == "UNION-7"


def test_an_inactive_user_is_never_linked(both):
    from accounts.services.wechat import user_record_unionid

    user = UserFactory(is_active=False)
    follower = FollowerFactory(openid=openid(8), unionid="UNION-8")
    user_record_unionid(user=user, unionid="UNION-8")
    follower.refresh_from_db()
    assert follower.user is None


# --- The official-account side: a follower's unionid arrives ----------------------------------------------


def test_a_page_login_whose_unionid_is_a_users_signs_in_without_the_claim_flow(both, client):
    user = UserFactory(wechat_unionid="UNION-10")
    response = page_login(client, both, found={"openid": openid(10), "unionid": "UNION-10"})
    assert response.status_code == 302 and response["Location"] == "/m/messages/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert Follower.objects.get(openid=openid(10)).user == user


def test_a_page_login_never_takes_a_users_other_follower_or_someone_elses(both, client):
    taken = BoundFollowerFactory(openid=openid(11), unionid="UNION-11")
    stranger = UserFactory(wechat_unionid="UNION-11")  # came later through the mini-program
    page_login(client, both, found={"openid": openid(11), "unionid": "UNION-11"})
    assert Follower.objects.get(pk=taken.pk).user == taken.user
    assert client.session["_auth_user_id"] == str(taken.user.pk)

    has_one = BoundFollowerFactory(openid=openid(12))
    has_one.user.wechat_unionid = "UNION-12"
    has_one.user.save()
    client.logout()
    response = page_login(client, both, found={"openid": openid(13), "unionid": "UNION-12"})
    assert response["Location"].startswith("/m/login/")  # the claim/login flow, as before
    assert Follower.objects.get(openid=openid(13)).user is None
    assert not Follower.objects.filter(user=stranger).exists()


def test_a_new_followers_fetched_unionid_binds_it(both, client, settings, django_capture_on_commit_callbacks):
    settings.WECHAT_OFFICIAL_FETCH_UNIONID = True
    user = UserFactory(wechat_unionid="UNION-20")
    both.users[openid(20)] = {"unionid": "UNION-20"}
    with django_capture_on_commit_callbacks(execute=True):
        response = wx.WeChatSide(client).post(wx.event(openid(20), "subscribe"))
    assert response.status_code == 200
    follower = Follower.objects.get(openid=openid(20))
    assert follower.unionid == "UNION-20" and follower.user == user
    # The robot now knows them: a bound user's command answers without the bind link.
    reply = wx.WeChatSide(client).reply(wx.WeChatSide(client).post(wx.text(openid(20), "帮助")))
    assert "未读" in reply
