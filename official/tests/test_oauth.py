"""Page login through the official account (网页授权) and binding a follower to a user."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.tests.factories import SchoolClassFactory, StudentFactory, UserFactory
from official import services
from official.api.views import SESSION_OPENID
from official.models import Follower
from official.tests.factories import BoundFollowerFactory, FollowerFactory, openid
from wechathhu.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def start(client, next_url=None):
    response = client.get(reverse("official:oauth-start"), {"next": next_url} if next_url else {})
    assert response.status_code == 302
    location = response["Location"]
    return location, parse_qs(urlsplit(location).query)


def come_back(client, fake, *, found: dict, next_url=None):
    """WeChat's round trip: the start, the authorisation, the callback with a code."""
    _, query = start(client, next_url)
    fake.oauth_codes["CODE-1"] = found
    return client.get(reverse("official:oauth-callback"), {"code": "CODE-1", "state": query["state"][0]})


def test_start_sends_the_browser_to_wechat_silently(client, official_account, settings):
    location, query = start(client, "/m/messages/")
    assert location.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")
    assert query["appid"] == [settings.WECHAT_OFFICIAL_APP_ID]
    assert query["scope"] == ["snsapi_base"]
    assert query["redirect_uri"] == [settings.SITE_URL + reverse("official:oauth-callback")]
    assert client.session["official_oauth"]["next"] == "/m/messages/"


def test_without_an_account_the_start_goes_to_the_login_page(client, settings):
    settings.WECHAT_OFFICIAL_ENABLED = False
    location, _ = start(client, "/m/guides/")
    assert location == "/m/login/?next=%2Fm%2Fguides%2F"


def test_a_bound_follower_is_logged_in_and_sent_on(client, official_account):
    follower = BoundFollowerFactory(openid=openid(1))
    response = come_back(client, official_account, found={"openid": openid(1)}, next_url="/m/activities/")
    assert response.status_code == 302 and response["Location"] == "/m/activities/"
    assert client.session["_auth_user_id"] == str(follower.user.pk)
    assert SESSION_OPENID not in client.session
    from portal.models import PageSession  # listed with the user's devices, like a password login

    assert PageSession.objects.filter(user=follower.user, session_key=client.session.session_key).exists()


def test_next_defaults_to_the_portal_and_never_leaves_the_site(client, official_account):
    BoundFollowerFactory(openid=openid(2))
    response = come_back(
        client, official_account, found={"openid": openid(2)}, next_url="https://evil.example/"
    )
    assert response["Location"] == "/m/"


def test_an_unbound_follower_goes_to_the_login_with_the_openid_kept(client, official_account):
    response = come_back(client, official_account, found={"openid": openid(3)}, next_url="/m/repairs/")
    assert response.status_code == 302
    assert response["Location"] == "/m/login/?next=%2Fm%2Frepairs%2F"
    assert client.session[SESSION_OPENID] == openid(3)
    assert "_auth_user_id" not in client.session
    assert Follower.objects.filter(openid=openid(3), user=None).exists()


def test_a_user_signed_in_already_is_bound_on_the_way(client, official_account):
    user = UserFactory()
    client.force_login(user)
    response = come_back(client, official_account, found={"openid": openid(4), "unionid": "UNION-4"})
    assert response["Location"] == "/m/"
    follower = Follower.objects.get(openid=openid(4))
    assert follower.user == user and follower.unionid == "UNION-4"


def test_snapshot_users_are_refused(client, official_account):
    response = come_back(client, official_account, found={"openid": openid(5), "is_snapshotuser": 1})
    assert response.status_code == 403
    assert "使用完整服务" in response.content.decode()
    assert "_auth_user_id" not in client.session and SESSION_OPENID not in client.session


def test_a_callback_this_site_did_not_start_is_refused(client, official_account):
    BoundFollowerFactory(openid=openid(6))
    official_account.oauth_codes["CODE-X"] = {"openid": openid(6)}
    response = client.get(reverse("official:oauth-callback"), {"code": "CODE-X", "state": "forged"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert "CODE-X" in official_account.oauth_codes  # the code was never exchanged


def test_a_used_or_expired_code_is_refused(client, official_account):
    _, query = start(client)
    response = client.get(
        reverse("official:oauth-callback"), {"code": "NOT-A-CODE", "state": query["state"][0]}
    )
    assert response.status_code == 400
    assert "重新打开" in response.content.decode()


def test_wechat_unreachable_is_a_503_page(client, official_account):
    official_account.fail_http["/sns/oauth2/access_token"] = 502
    _, query = start(client)
    response = client.get(reverse("official:oauth-callback"), {"code": "C", "state": query["state"][0]})
    assert response.status_code == 503


# --- follower_bind_user (the H5 login and claim pages call it) -----------------------------------------


def test_bind_binds_and_moves_the_openid_off_its_previous_user():
    first, second = UserFactory(), UserFactory()
    services.follower_bind_user(openid=openid(10), user=first)
    follower = services.follower_bind_user(openid=openid(10), user=second)
    assert follower.user == second and follower.bound_at is not None
    assert Follower.objects.filter(user=first).count() == 0


def test_a_user_has_one_followers_binding():
    user = UserFactory()
    services.follower_bind_user(openid=openid(11), user=user)
    services.follower_bind_user(openid=openid(12), user=user)
    assert list(Follower.objects.filter(user=user).values_list("openid", flat=True)) == [openid(12)]
    assert Follower.objects.get(openid=openid(11)).user is None


def test_binding_again_is_harmless():
    user = UserFactory()
    first = services.follower_bind_user(openid=openid(13), user=user)
    again = services.follower_bind_user(openid=openid(13), user=user)
    assert first.pk == again.pk and again.bound_at == first.bound_at


def test_an_inactive_user_cannot_bind():
    with pytest.raises(ApplicationError):
        services.follower_bind_user(openid=openid(14), user=UserFactory(is_active=False))
    assert not Follower.objects.filter(user__isnull=False).exists()


def test_a_class_qr_code_guides_but_whoever_proves_who_they_are_is_bound():
    mine, other = SchoolClassFactory(), SchoolClassFactory()
    FollowerFactory(openid=openid(15), scene_class=mine)
    student_elsewhere = StudentFactory(school_class=other)  # scanned a neighbour's poster
    follower = services.follower_bind_user(openid=openid(15), user=student_elsewhere)
    assert follower.user == student_elsewhere and follower.scene_class == mine


def test_the_portal_login_binds_after_a_class_qr_scan(client):
    """The H5 login binds the follower waiting in the session, whatever class it scanned."""
    from conftest import PASSWORD

    FollowerFactory(openid=openid(16), scene_class=SchoolClassFactory())
    session = client.session
    session[SESSION_OPENID] = openid(16)
    session.save()
    user = StudentFactory()
    response = client.post("/m/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert Follower.objects.get(openid=openid(16)).user == user


def test_openids_for_users_only_counts_current_followers():
    from official.selectors import official_openids_for_users

    following = BoundFollowerFactory(openid=openid(20))
    left = BoundFollowerFactory(openid=openid(21), subscribed=False)
    stranger = UserFactory()
    found = official_openids_for_users(user_ids=[following.user_id, left.user_id, stranger.pk])
    assert found == {following.user_id: openid(20)}


def test_a_new_followers_unionid_is_fetched_when_configured(
    client, settings, official_account, django_capture_on_commit_callbacks
):
    from official.tests import wechat_side as wx

    settings.WECHAT_OFFICIAL_FETCH_UNIONID = True
    official_account.users[openid(30)] = {"unionid": "UNION-30"}
    with django_capture_on_commit_callbacks(execute=True):
        wx.WeChatSide(client).post(wx.event(openid(30), "subscribe"))
    assert Follower.objects.get(openid=openid(30)).unionid == "UNION-30"


def test_without_the_setting_nobody_asks_wechat(client, official_account, django_capture_on_commit_callbacks):
    from official.tests import wechat_side as wx

    with django_capture_on_commit_callbacks(execute=True):
        wx.WeChatSide(client).post(wx.event(openid(31), "subscribe"))
    assert "/cgi-bin/user/info" not in official_account.paths()


def test_an_unbound_follower_is_bound_by_the_portal_login_that_follows(client, official_account):
    """The whole round: WeChat finds no account, the H5 login proves who it is, the follower is
    bound, and the next page login through WeChat needs no password."""
    from conftest import PASSWORD

    user = UserFactory()
    response = come_back(client, official_account, found={"openid": openid(40)}, next_url="/m/repairs/")
    login_page = response["Location"]
    response = client.post(login_page, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert Follower.objects.get(openid=openid(40)).user == user
    client.logout()
    again = come_back(client, official_account, found={"openid": openid(40)})
    assert again["Location"] == "/m/" and client.session["_auth_user_id"] == str(user.pk)
