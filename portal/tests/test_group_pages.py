"""分组 on the pages: my groups; a group's members; its managers find people and add them, change a
title, remove a member (the API's services and rules); a group I am not in is 404, and an
ordinary member cannot manage (403)."""

import pytest

from accounts.models import GroupMembership
from accounts.tests.factories import CampusGroupFactory, GroupMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(student):
    group = CampusGroupFactory(name="学生会")
    GroupMembershipFactory(group=group, user=student, is_manager=True, title="主席")
    return group


def test_my_groups_and_a_groups_members(page, student, group):
    other = CampusGroupFactory(name="摄影协会")
    GroupMembershipFactory(group=other)
    GroupMembershipFactory(group=group, user=UserFactory(last_name="赵", first_name="六"), title="干事")
    listing = page.get("/m/groups/").content.decode()
    assert "学生会" in listing and "我管理" in listing and "2 人" in listing and "摄影协会" not in listing
    body = page.get(f"/m/groups/{group.pk}/").content.decode()
    assert "赵六" in body and "干事" in body and "添加成员" in body
    assert page.get(f"/m/groups/{other.pk}/").status_code == 404
    assert page.post(f"/m/groups/{other.pk}/", {"action": "remove", "user_id": student.pk}).status_code == 404


def test_a_manager_finds_adds_retitles_and_removes_a_member(page, group):
    newcomer = UserFactory(last_name="钱", first_name="七", name_pinyin="qianqi", name_initials="qq")
    found = page.get(f"/m/groups/{group.pk}/", {"q": "qianqi"}).content.decode()
    assert "钱七" in found and "加入本组" in found
    added = page.post(f"/m/groups/{group.pk}/", {"action": "add", "user_id": newcomer.pk, "title": "干事"})
    assert added.status_code == 302
    assert GroupMembership.objects.get(group=group, user=newcomer).title == "干事"
    again = page.post(f"/m/groups/{group.pk}/", {"action": "add", "user_id": newcomer.pk})
    assert again.status_code == 400 and "该用户已是本组成员。" in again.content.decode()
    assert "已在本组" in page.get(f"/m/groups/{group.pk}/", {"q": "qianqi"}).content.decode()
    page.post(f"/m/groups/{group.pk}/", {"action": "title", "user_id": newcomer.pk, "title": "副主席"})
    assert GroupMembership.objects.get(group=group, user=newcomer).title == "副主席"
    page.post(f"/m/groups/{group.pk}/", {"action": "remove", "user_id": newcomer.pk})
    assert not GroupMembership.objects.filter(group=group, user=newcomer).exists()
    gone = page.post(f"/m/groups/{group.pk}/", {"action": "remove", "user_id": newcomer.pk})
    assert gone.status_code == 404


def test_an_ordinary_member_sees_the_members_but_cannot_manage(browser_for, group):
    member = UserFactory()
    GroupMembershipFactory(group=group, user=member)
    client = browser_for(member)
    body = client.get(f"/m/groups/{group.pk}/", {"q": "a"}).content.decode()
    assert "添加成员" not in body and "移出" not in body
    refused = client.post(f"/m/groups/{group.pk}/", {"action": "add", "user_id": UserFactory().pk})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "data",
    [
        {"action": "fly", "user_id": "1"},
        {"action": "add", "user_id": "99999999999999999999999"},
        {"action": "add", "user_id": "x"},
        {"action": "title", "user_id": "1", "title": "长" * 51},
    ],
)
def test_bad_member_input_is_a_form_error(page, group, data):
    assert page.post(f"/m/groups/{group.pk}/", data).status_code == 400


def test_someone_who_has_left_cannot_be_added(page, group):
    left = UserFactory(is_active=False)
    assert page.post(f"/m/groups/{group.pk}/", {"action": "add", "user_id": left.pk}).status_code == 404
