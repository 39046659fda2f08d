"""Simultaneous requests from real threads against MariaDB: the constraints and row locks decide."""

import threading

import pytest
import responses
from django.db import connection

from accounts.models import AuthToken, Friendship, GroupMembership
from accounts.services.groups import group_member_add
from accounts.tests.factories import CampusGroupFactory, StudentFactory, UserFactory
from conftest import WECHAT_BASE, client_for
from wechathhu.core.errors import ApplicationError

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


def run_together(calls):
    """Run the callables at the same moment, one thread each; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_simultaneous_friend_adds_make_one_friendship():
    me, other = UserFactory(), UserFactory()
    clients = [client_for(me, device=f"phone-{i}") for i in range(6)]
    results = run_together([lambda c=c: c.post(f"/friends/{other.pk}/") for c in clients])
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [400] * 5
    assert all(r.json()["detail"] == "已存在该好友关系。" for r in results if r.status_code == 400)
    assert Friendship.objects.filter(user=me, friend=other).count() == 1


def test_simultaneous_claims_of_one_account_bind_one_wechat(settings, password):
    settings.WECHAT_ENABLED = True
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx-test-app", "secret"
    settings.WECHAT_API_BASE_URL = WECHAT_BASE
    owner = StudentFactory(username="S2099001", last_name="张", first_name="三")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(WECHAT_BASE + "cgi-bin/token", json={"access_token": "A", "expires_in": 7200})
        for i in range(4):
            mock.get(
                WECHAT_BASE + "sns/jscode2session",
                match=[responses.matchers.query_param_matcher({"js_code": f"wx-{i}"}, strict_match=False)],
                json={"openid": f"openid-{i}"},
            )
        from rest_framework.test import APIClient

        def claim(i):
            body = {"username": "S2099001", "name": "张三", "password": password, "code": f"wx-{i}"}
            return APIClient().post("/auth/claim/", body, REMOTE_ADDR=f"10.0.0.{i}")

        results = run_together([lambda i=i: claim(i) for i in range(4)])
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 400, 400, 400]
    owner.refresh_from_db()
    winner = next(i for i, r in enumerate(results) if r.status_code == 201)
    assert owner.wechat_openid == f"openid-{winner}"
    assert AuthToken.objects.filter(user=owner).count() == 1


def test_simultaneous_adds_to_a_group_make_one_membership():
    group = CampusGroupFactory()
    staff, student = UserFactory(is_staff=True), StudentFactory()

    def add():
        try:
            group_member_add(group=group, user=student, by=staff, title="干事")
            return "added"
        except ApplicationError as exc:
            return exc.message

    results = run_together([add for _ in range(5)])
    assert sorted(results) == ["added"] + ["该用户已是本组成员。"] * 4
    assert GroupMembership.objects.filter(group=group, user=student).count() == 1
