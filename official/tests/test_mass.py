"""Tags and mass sends against the fake WeChat server, with MASSSENDJOBFINISH's totals landing
on the send and in the delivery report's selector."""

import pytest
from django.urls import reverse

from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    StudentFactory,
    UserFactory,
)
from messaging.tests.factories import MessageFactory
from official import selectors, services
from official.models import TAG_LIMIT, Follower, MassSend, MassStatus, OfficialTag
from official.services import mass
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, FollowerFactory, MassSendFactory, openid
from wechathhu.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def bind(user, n, **extra) -> Follower:
    return BoundFollowerFactory(openid=openid(n), user=user, **extra)


# --- Tags ------------------------------------------------------------------------------------------


def test_tag_sync_mirrors_departments_grades_and_groups(official_account):
    science = DepartmentFactory(name="计算机科学系")
    klass = SchoolClassFactory(grade=2024, department=science)
    group = CampusGroupFactory(name="学生会")
    students = [StudentFactory(department=science, school_class=klass) for _ in range(60)]
    for n, student in enumerate(students):
        bind(student, n)
    GroupMembershipFactory(group=group, user=students[0])
    FollowerFactory(openid=openid(999))  # a follower bound to nobody carries no tag

    stats = services.tag_sync()

    fake = official_account
    names = {tag.name: tag for tag in OfficialTag.objects.all()}
    assert set(names) == {"系所-计算机科学系", "年级-2024级", "分组-学生会"}
    assert set(fake.tags.values()) >= set(names)
    department_members = fake.tag_members[names["系所-计算机科学系"].wechat_id]
    assert department_members == {openid(n) for n in range(60)}
    assert fake.tag_members[names["分组-学生会"].wechat_id] == {openid(0)}
    assert stats["tagged"] == 60 + 60 + 1
    # 60 members needed two batches (WeChat takes at most 50 openids a call)
    tagging = [body for path, _, body in fake.calls if path.endswith("batchtagging")]
    assert max(len(body["openid_list"]) for body in tagging) == 50
    assert names["系所-计算机科学系"].members.count() == 60


def test_a_second_sync_sends_only_the_difference(official_account):
    department = DepartmentFactory(name="数学系")
    users = [UserFactory(department=department) for _ in range(3)]
    followers = [bind(user, n) for n, user in enumerate(users)]
    services.tag_sync()
    calls_before = len(official_account.calls)
    followers[0].subscribed = False  # unfollowed: untag
    followers[0].save()
    bind(UserFactory(department=department), 10)  # a new follower: tag

    stats = services.tag_sync()

    assert (stats["tagged"], stats["untagged"], stats["created"]) == (1, 1, 0)
    tag = OfficialTag.objects.get(department=department)
    assert official_account.tag_members[tag.wechat_id] == {openid(1), openid(2), openid(10)}
    new_calls = [path for path, _, _ in official_account.calls[calls_before:]]
    assert new_calls.count("/cgi-bin/tags/members/batchtagging") == 1


def test_a_deleted_group_s_tag_is_deleted_at_wechat(official_account):
    group = CampusGroupFactory(name="摄影协会")
    services.tag_sync()
    wechat_id = OfficialTag.objects.get(group=group).wechat_id
    group.delete()
    stats = services.tag_sync()
    assert stats["deleted"] == 1
    assert wechat_id not in official_account.tags
    assert not OfficialTag.objects.filter(wechat_id=wechat_id).exists()


def test_more_than_100_tags_are_refused_before_any_change(official_account):
    for n in range(TAG_LIMIT):
        CampusGroupFactory(name=f"社团{n}")
    with pytest.raises(ApplicationError) as info:
        services.tag_sync()
    assert "最多 100 个标签" in info.value.message
    assert list(official_account.tags.values()) == ["星标组"]
    assert not [path for path, _, _ in official_account.calls if path == "/cgi-bin/tags/create"]


# --- Mass sends --------------------------------------------------------------------------------------


def test_a_mass_send_to_everyone_with_the_finish_counts_landing_on_it(
    client, official_account, django_capture_on_commit_callbacks
):
    staff = UserFactory(is_staff=True, kind="staff")
    followers = [FollowerFactory(openid=openid(n)) for n in range(5)]
    message = MessageFactory(title="全院停电通知")
    send = MassSendFactory(message=message, content="明天 8:00–12:00 全院停电。")
    assert mass.mass_allowance(mass=send).remaining == 4

    with django_capture_on_commit_callbacks(execute=True):
        services.mass_send_queue(mass=send, by=staff)

    send.refresh_from_db()
    assert send.status == MassStatus.SUBMITTED and send.msg_id == 5_000_001
    [body] = official_account.mass
    assert body["filter"] == {"is_to_all": True} and body["text"]["content"] == "明天 8:00–12:00 全院停电。"
    assert body["clientmsgid"] == f"wechathhu-mass-{send.pk}"
    assert {f.mass_count for f in Follower.objects.filter(pk__in=[f.pk for f in followers])} == {1}
    assert mass.mass_allowance(mass=MassSendFactory()).remaining == 3

    # WeChat reports the job: the totals land on the send and in the message's delivery report.
    side = wx.WeChatSide(client)
    response = side.post(wx.mass_finish(send.msg_id, total=5, filtered=5, sent=4, error=1))
    assert response.status_code == 200 and response.content == b"success"
    side.post(wx.mass_finish(send.msg_id, total=5, filtered=5, sent=4, error=1))  # WeChat's retry
    send.refresh_from_db()
    assert send.status == MassStatus.FINISHED
    assert (send.total_count, send.filter_count, send.sent_count, send.error_count) == (5, 5, 4, 1)
    assert selectors.mass_send_totals_for_message(message_id=message.pk) == {
        "sends": 1,
        "finished": 1,
        "total": 5,
        "filtered": 5,
        "sent": 4,
        "error": 1,
    }


def test_a_report_arriving_before_the_send_is_recorded_is_kept_for_it(client, official_account):
    send = MassSendFactory(status=MassStatus.QUEUED)
    FollowerFactory(openid=openid(1))
    wx.WeChatSide(client).post(wx.mass_finish(5_000_001, total=1, filtered=1, sent=1, error=0))
    mass.mass_send_record_submitted(mass=send, msg_id=5_000_001, msg_data_id=None)
    send.refresh_from_db()
    assert send.status == MassStatus.FINISHED and send.sent_count == 1


def test_totals_for_a_message_without_a_mass_send():
    assert selectors.mass_send_totals_for_message(message_id=MessageFactory().pk) is None


def test_a_class_travels_by_openid_list(official_account, django_capture_on_commit_callbacks):
    klass = SchoolClassFactory()
    for n in range(3):
        bind(StudentFactory(school_class=klass), n)
    bind(StudentFactory(), 50)  # another class
    send = MassSendFactory(audience="class", school_class=klass)
    with django_capture_on_commit_callbacks(execute=True):
        services.mass_send_queue(mass=send, by=UserFactory(is_staff=True))
    [body] = official_account.mass
    assert sorted(body["touser"]) == [openid(0), openid(1), openid(2)]


def test_a_class_with_one_follower_is_refused(official_account):
    klass = SchoolClassFactory()
    bind(StudentFactory(school_class=klass), 0)
    with pytest.raises(ApplicationError) as info:
        services.mass_send_queue(mass=MassSendFactory(audience="class", school_class=klass), by=None)
    assert "模板消息" in info.value.message


def test_a_tag_send_needs_a_synced_tag_and_uses_its_wechat_id(
    official_account, django_capture_on_commit_callbacks
):
    department = DepartmentFactory(name="物理系")
    bind(UserFactory(department=department), 0)
    bind(UserFactory(department=department), 1)
    services.tag_sync()
    tag = OfficialTag.objects.get(department=department)
    send = MassSendFactory(audience="tag", tag=tag)
    with django_capture_on_commit_callbacks(execute=True):
        services.mass_send_queue(mass=send, by=None)
    assert official_account.mass[0]["filter"] == {"is_to_all": False, "tag_id": tag.wechat_id}
    assert official_account.mass_recipients(official_account.mass[0]) == [openid(0), openid(1)]


def test_the_monthly_allowance_is_enforced_unless_forced(
    official_account, django_capture_on_commit_callbacks
):
    FollowerFactory(openid=openid(1))
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            services.mass_send_queue(mass=MassSendFactory(), by=None)
    fifth = MassSendFactory()
    assert mass.mass_allowance(mass=fifth).remaining == 0
    with pytest.raises(ApplicationError) as info:
        services.mass_send_queue(mass=fifth, by=None)
    assert "收满 4 次" in info.value.message
    services.mass_send_queue(mass=fifth, by=None, force=True)
    assert MassSend.objects.get(pk=fifth.pk).status == MassStatus.QUEUED


def test_a_send_is_sent_once(official_account, django_capture_on_commit_callbacks):
    FollowerFactory(openid=openid(1))
    send = MassSendFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.mass_send_queue(mass=send, by=None)
    with pytest.raises(ApplicationError):
        services.mass_send_queue(mass=send, by=None)
    # A crash after WeChat took it, before it was recorded: the outbox sends again; WeChat
    # refuses the same clientmsgid (45065) and nothing is sent twice.
    MassSend.objects.filter(pk=send.pk).update(status=MassStatus.QUEUED)
    mass.mass_send_submit(mass=send)
    assert len(official_account.mass) == 1


def test_the_send_page_shows_the_allowance_then_sends(
    client, official_account, django_capture_on_commit_callbacks
):
    staff = UserFactory(is_staff=True, is_superuser=True, kind="staff")
    FollowerFactory(openid=openid(1))
    FollowerFactory(openid=openid(2))
    send = MassSendFactory(title="开学通知")
    client.force_login(staff)
    url = reverse("admin:official_masssend_send", args=[send.pk])
    page = client.get(url).content.decode()
    assert "本月还可群发给全部这些粉丝" in page and "4 次" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {})
    assert response.status_code == 302
    assert MassSend.objects.get(pk=send.pk).status == MassStatus.SUBMITTED
    assert len(official_account.mass) == 1
