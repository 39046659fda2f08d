"""Every robot command and the keyword rules, through the webhook as WeChat sends them."""

import datetime as dt
import time

import pytest
import xmltodict
from django.utils import timezone

from accounts.models import Visibility
from accounts.tests.factories import UserFactory
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from guides.tests.factories import GuideFactory
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from official.models import Handling, InboundMessage, KeywordRule
from official.tests import wechat_side as wx
from official.tests.factories import BoundFollowerFactory, FollowerFactory, KeywordRuleFactory, openid
from reservations.tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def side(client, official_account):
    return wx.WeChatSide(client)


@pytest.fixture
def bound(db):
    return BoundFollowerFactory(openid=openid(100))


def say(side, who, text) -> dict:
    response = side.post(wx.text(who, text))
    assert response.status_code == 200, response.content
    assert response.content != b"success", "the robot said nothing"
    return xmltodict.parse(side.reply(response))["xml"]


def test_help_lists_the_commands_of_a_bound_user(side, bound):
    content = say(side, bound.openid, "帮助")["Content"]
    for command in ("未读", "今日", "通讯录", "指南", "报修", "#话题#"):
        assert command in content
    assert "绑定" not in content


@pytest.mark.parametrize("command", ["未读", "今日", "通讯录 张三", "指南 报销", "报修 科学馆 灯坏了"])
def test_commands_for_bound_users_ask_an_unbound_follower_to_bind(side, command):
    content = say(side, openid(101), command)["Content"]
    assert "绑定" in content and "/wechat/oauth/start/" in content
    from repairs.models import RepairRequest

    assert not RepairRequest.objects.exists()


def test_unread_gives_the_count_and_the_latest_titles(side, bound):
    for title in ("期末考试安排", "停电通知", "讲座预告", "旧消息"):
        MessageRecipientFactory(message=MessageFactory(title=title), recipient=bound.user)
    read = MessageRecipientFactory(message=MessageFactory(title="已读的"), recipient=bound.user)
    read.read_at = timezone.now()
    read.save()
    content = say(side, bound.openid, "未读")["Content"]
    assert "4 条未读" in content
    assert "已读的" not in content
    assert content.count("·") == 3


def test_unread_shows_a_templated_title_as_filled_for_the_reader(side, bound):
    """A message sent from a template with placeholders is listed with the reader's own title, the
    one the inbox shows them, never the raw 「{姓名}」."""
    from messaging.models import RecipientText

    row = MessageRecipientFactory(
        message=MessageFactory(title="{姓名}同学：请确认信息"), recipient=bound.user
    )
    RecipientText.objects.create(recipient_row=row, title="王小明同学：请确认信息", content="")
    MessageRecipientFactory(message=MessageFactory(title="停电通知"), recipient=bound.user)
    content = say(side, bound.openid, "未读")["Content"]
    assert "· 王小明同学：请确认信息" in content
    assert "{姓名}" not in content and "· 停电通知" in content


def test_unread_with_nothing_unread(side, bound):
    assert "没有未读" in say(side, bound.openid, "未读")["Content"]


def test_directory_shows_public_fields_only(side, bound):
    UserFactory(
        last_name="张",
        first_name="三",
        phone="13800000000",
        phone_visibility=Visibility.COLLEAGUES,
        tel="025-1234",
        tel_visibility=Visibility.EVERYONE,
        qq="10001",
        qq_visibility=Visibility.NOBODY,
        department=bound.user.department,  # a colleague: the directory page would show the phone
    )
    content = say(side, bound.openid, "通讯录 张三")["Content"]
    assert "张三" in content
    assert "025-1234" in content
    assert "13800000000" not in content and "10001" not in content


def test_directory_without_a_match(side, bound):
    assert "没有找到" in say(side, bound.openid, "通讯录 不存在的人")["Content"]


def test_guides_answer_with_download_links(side, bound):
    GuideFactory(name="差旅报销指南")
    GuideFactory(name="请假流程")
    content = say(side, bound.openid, "指南 报销")["Content"]
    assert "差旅报销指南" in content and "请假流程" not in content
    assert "/guides/links/" in content


def test_repair_answers_at_once_and_creates_the_repair_in_celery(
    side, bound, official_account, django_capture_on_commit_callbacks
):
    from repairs.models import RepairRequest

    with django_capture_on_commit_callbacks(execute=True):
        content = say(side, bound.openid, "报修 科学馆301 投影仪无法开机")["Content"]
    assert "正在提交报修" in content
    repair = RepairRequest.objects.get()
    assert (repair.user, repair.location, repair.description) == (bound.user, "科学馆301", "投影仪无法开机")
    assert InboundMessage.objects.get().followup_done_at is not None
    # The result follows as a customer-service message, through the outbox.
    [sent] = official_account.custom
    assert sent["touser"] == bound.openid and f"编号 {repair.pk}" in sent["text"]["content"]
    from official.models import ServiceMessage

    assert ServiceMessage.objects.get().status == "sent"


def test_a_repair_follow_up_runs_once_even_when_queued_twice(
    side, bound, official_account, django_capture_on_commit_callbacks
):
    from official.services.robot import robot_followup_run
    from repairs.models import RepairRequest

    with django_capture_on_commit_callbacks(execute=True):
        say(side, bound.openid, "报修 图书馆 空调漏水")
    inbound = InboundMessage.objects.get()
    assert robot_followup_run(inbound_id=inbound.pk) is False
    assert RepairRequest.objects.count() == 1 and len(official_account.custom) == 1


def test_repair_without_a_description_explains_the_format(side, bound):
    from repairs.models import RepairRequest

    assert "报修 地点 描述" in say(side, bound.openid, "报修 科学馆")["Content"]
    assert not RepairRequest.objects.exists()


def test_today_lists_my_bookings_activities_and_clockin_windows(side, bound):
    now = timezone.now()
    start = timezone.localtime(now).replace(hour=23, minute=0, second=0, microsecond=0)
    if start <= now:  # the test runs just before midnight: nothing of "today" is left to book
        pytest.skip("too close to midnight")
    ReservationFactory(user=bound.user, reserve_from=start, reserve_to=start + dt.timedelta(minutes=30))
    ReservationFactory(
        user=bound.user,
        reserve_from=start + dt.timedelta(days=2),
        reserve_to=start + dt.timedelta(days=2, hours=1),
    )
    activity = ActivityFactory(name="人工智能讲座", time_start=now, time_end=start)
    EnrollmentFactory(activity=activity, user=bound.user)
    ClockinItemFactory(
        activity=activity,
        label="签到",
        from_time=now - dt.timedelta(minutes=5),
        to_time=now + dt.timedelta(minutes=30),
    )
    ActivityFactory(name="别人的活动", time_start=now, time_end=start)
    content = say(side, bound.openid, "今日")["Content"]
    assert "23:00" in content
    assert content.count("会议室") == 1
    assert "人工智能讲座" in content and "别人的活动" not in content
    assert "签到" in content


def test_today_with_nothing_planned(side, bound):
    assert "没有会议室预约" in say(side, bound.openid, "今天")["Content"]


def test_a_menu_click_is_answered_by_the_robot(side, bound):
    response = side.post(wx.event(bound.openid, "CLICK", key="未读"))
    assert "未读" in xmltodict.parse(side.reply(response))["xml"]["Content"]
    assert InboundMessage.objects.get().handling == Handling.COMMAND


# --- Topics ---------------------------------------------------------------------------------------


def test_posting_and_reading_a_topic(side, bound):
    assert "已发表到 #食堂#" in say(side, bound.openid, "#食堂#红烧肉不错")["Content"]
    assert "已发表到" in say(side, bound.openid, "＃食堂＃排队太长")["Content"]
    other = FollowerFactory(openid=openid(102))
    content = say(side, other.openid, "#食堂#")["Content"]
    assert "红烧肉不错" in content and "排队太长" in content


def test_an_unbound_follower_reads_topics_but_cannot_post(side):
    assert "绑定" in say(side, openid(103), "#食堂#我也说一句")["Content"]
    assert "还没有讨论" in say(side, openid(103), "#食堂#")["Content"]


# --- Keyword rules ------------------------------------------------------------------------------------


def test_rules_match_exactly_by_containing_or_by_regex_in_priority_order(side):
    KeywordRuleFactory(pattern="校历", text="校历见官网", priority=10)
    KeywordRuleFactory(match="contains", pattern="宿舍", text="宿舍事务请找宿管", priority=20)
    KeywordRuleFactory(match="regex", pattern=r"^\d{4}年.*放假", text="放假安排见通知", priority=30)
    KeywordRuleFactory(match="contains", pattern="宿舍", text="低优先级", priority=99)
    assert say(side, openid(104), "校历")["Content"] == "校历见官网"
    assert say(side, openid(104), "请问宿舍几点关门")["Content"] == "宿舍事务请找宿管"
    assert say(side, openid(104), "2026年什么时候放假")["Content"] == "放假安排见通知"
    assert "工作人员" in say(side, openid(104), "校历呢")["Content"]  # exact means exact: to the inbox


def test_a_rule_answers_only_in_its_active_hours(side, django_capture_on_commit_callbacks):
    from official.services import keyword_rule_save

    now = timezone.localtime()
    rule = KeywordRuleFactory(
        pattern="值班",
        text="值班电话 1234",
        active_from=(now + dt.timedelta(hours=1)).time(),
        active_until=(now + dt.timedelta(hours=2)).time(),
    )
    assert "工作人员" in say(side, openid(105), "值班")["Content"]  # not its hours: to the inbox
    rule.active_from = (now - dt.timedelta(hours=1)).time()
    rule.active_until = (now + dt.timedelta(hours=1)).time()
    with django_capture_on_commit_callbacks(execute=True):
        keyword_rule_save(rule=rule)
    if (now - dt.timedelta(hours=1)).date() != now.date() or (
        now + dt.timedelta(hours=1)
    ).date() != now.date():
        return  # the window crosses midnight: covered by the unit test of _active
    assert say(side, openid(105), "值班")["Content"] == "值班电话 1234"


def test_news_image_and_link_replies(side):
    KeywordRuleFactory(
        pattern="新闻",
        reply_kind="news",
        title="学院新闻",
        description="本周要闻",
        url="https://example.edu.cn/news",
        pic_url="https://example.edu.cn/a.jpg",
    )
    KeywordRuleFactory(pattern="海报", reply_kind="image", media_id="MEDIA-1")
    KeywordRuleFactory(pattern="官网", reply_kind="link", title="学院官网", url="https://example.edu.cn/")
    news = say(side, openid(106), "新闻")
    assert news["MsgType"] == "news" and news["ArticleCount"] == "1"
    assert news["Articles"]["item"]["Url"] == "https://example.edu.cn/news"
    image = say(side, openid(106), "海报")
    assert image["MsgType"] == "image" and image["Image"]["MediaId"] == "MEDIA-1"
    link = say(side, openid(106), "官网")
    assert '<a href="https://example.edu.cn/">学院官网</a>' in link["Content"]


@pytest.fixture
def staff_client(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True, kind="staff")
    client.force_login(staff)
    return client


def test_rules_are_read_once_and_reloaded_after_a_change_in_the_admin(
    side, staff_client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """Every worker keeps the compiled rules and reads the table again only after a change (a
    version in the shared cache, set when the change is committed)."""
    from django.urls import reverse

    KeywordRuleFactory(pattern="校车", text="校车 7:30 发车", priority=10)
    assert say(side, openid(107), "校车")["Content"] == "校车 7:30 发车"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:official_keywordrule_add"),
            {
                "name": "校车新",
                "match": "exact",
                "pattern": "校车",
                "priority": 1,
                "is_active": "on",
                "reply_kind": "text",
                "text": "校车改为 8:00 发车",
            },
        )
    assert response.status_code == 302, response.content
    assert say(side, openid(107), "校车")["Content"] == "校车改为 8:00 发车"

    newer = KeywordRule.objects.get(name="校车新")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:official_keywordrule_delete", args=[newer.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert say(side, openid(107), "校车")["Content"] == "校车 7:30 发车"

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:official_keywordrule_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": list(KeywordRule.objects.values_list("pk", flat=True)),
                "post": "yes",
            },
        )
    assert not KeywordRule.objects.exists()
    assert "工作人员" in say(side, openid(107), "校车")["Content"]


def rule_reads(side, who, text) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as read:
        say(side, who, text)
    return sum("official_keywordrule" in q["sql"] for q in read.captured_queries)


@pytest.mark.redis
def test_with_redis_each_worker_reads_the_rules_once_until_they_change(
    side, django_capture_on_commit_callbacks
):
    from official.services import keyword_rule_save

    rule = KeywordRuleFactory(pattern="食堂", text="食堂 6:30 开门")
    assert rule_reads(side, openid(109), "食堂") == 1
    assert rule_reads(side, openid(109), "食堂") == 0
    rule.text = "食堂 7:00 开门"
    with django_capture_on_commit_callbacks(execute=True):
        keyword_rule_save(rule=rule)
    assert say(side, openid(109), "食堂")["Content"] == "食堂 7:00 开门"


def test_without_redis_the_rules_are_read_at_every_lookup(side, settings):
    """A process's own cache tells no other worker of a change: nothing is kept."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    KeywordRuleFactory(pattern="操场", text="操场 22:00 关闭")
    assert rule_reads(side, openid(110), "操场") == 1
    assert rule_reads(side, openid(110), "操场") == 1


def test_the_rules_are_read_from_the_table_without_a_cache(side, settings):
    """A deployment whose cache is down still answers by the rules (read each time)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    KeywordRuleFactory(pattern="图书馆", text="图书馆 8:00–22:00")
    assert say(side, openid(108), "图书馆")["Content"] == "图书馆 8:00–22:00"


def test_rules_across_midnight():
    from official.services.robot import _active

    rule = KeywordRule(active_from=dt.time(22), active_until=dt.time(7))
    assert _active(rule, dt.time(23, 30)) and _active(rule, dt.time(6, 59))
    assert not _active(rule, dt.time(12))


def test_a_rule_with_a_broken_regex_is_refused():
    from django.core.exceptions import ValidationError

    rule = KeywordRule(name="坏", match="regex", pattern="(", text="x")
    with pytest.raises(ValidationError) as info:
        rule.full_clean()
    assert "pattern" in info.value.message_dict


def test_the_robot_answers_fast_enough_for_one_message_query_budget(
    side, bound, django_assert_max_num_queries
):
    """A command through the webhook costs a handful of queries (the bench measures the time)."""
    side.post(wx.text(bound.openid, "帮助"))  # the follower exists
    # The follower, its window, the delivery's row (under the test's transaction: in a savepoint).
    with django_assert_max_num_queries(5) as queries:
        side.post(wx.text(bound.openid, "帮助", at=int(time.time()) + 1))
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert [s for s in statements if s in ("SELECT", "UPDATE", "INSERT")] == ["SELECT", "UPDATE", "INSERT"]
