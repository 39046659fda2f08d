"""Full-text search for Chinese (issue 20 item 6): the bigram index, kept by the services, found by
one- and two-character queries, ranked by relevance, rebuilt by the command; constant queries."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.tests.factories import UserFactory
from messaging import search, services
from messaging.models import Message, MessageSearchTerm
from messaging.tests.envelope import assert_error
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("messaging:message-list")
ADMIN_LIST = reverse("messaging:admin-message-list")


def test_terms_are_bigrams_and_last_characters():
    assert search.text_terms("会议通知") == {"会议": 1, "议通": 1, "通知": 1, "知": 1}
    assert search.text_terms("WiFi，会") == {"wi": 1, "if": 1, "fi": 1, "i": 1, "会": 1}
    assert search.message_terms(title="会议", content="会议会议") == {"会议": 5 + 2, "议会": 1, "议": 5 + 1}
    assert search.query_parts("会议") == [("exact", "会议")]
    assert search.query_parts("会 报销") == [("prefix", "会"), ("exact", "报销")]
    assert search.query_parts("！？ ") == []


def ids(response):
    body = response.json()
    assert response.status_code == 200, body
    return [m["id"] for m in body["data"]["messages"]]


@pytest.fixture
def student(db):
    return UserFactory(kind="student")


def to(user, **kwargs):
    message = MessageFactory(**kwargs)
    MessageRecipientFactory(message=message, recipient=user)
    return message


def test_two_character_queries_find_their_messages(bearer, student):
    meeting = to(student, title="下周一全院教职工大会", content="请准时参加会议。")
    expense = to(student, title="差旅费报销流程调整", content="自即日起报销须在线提交。")
    to(student, title="图书馆开放时间", content="寒假期间闭馆。")
    everyone = GlobalMessageFactory(title="全校会议通知", content="地点：礼堂")
    client = bearer(student)
    assert set(ids(client.get(INBOX, {"search": "会议"}))) == {meeting.pk, everyone.pk}
    assert ids(client.get(INBOX, {"search": "报销"})) == [expense.pk]
    assert ids(client.get(INBOX, {"search": "报"})) == [expense.pk]  # one character
    assert ids(client.get(INBOX, {"search": "销"})) == [expense.pk]  # a segment's last character
    assert ids(client.get(INBOX, {"search": "会议 礼堂"})) == [everyone.pk]  # every part must match
    assert ids(client.get(INBOX, {"search": "体育"})) == []
    assert ids(client.get(INBOX, {"search": "？！"})) == []  # no letters or digits: nothing


def test_a_query_matches_the_phrase_not_its_bigrams_apart(bearer, student):
    """Every bigram of 「会议室」 is in the second message, but never adjacent: only the first matches.
    The same for Latin words and mixed text; case and full width fold like the index."""
    room = to(student, title="第三会议室启用", content="")
    apart = to(student, title="会议纪要", content="签订协议室外施工")  # 会议 … 议室, never 会议室
    wifi = to(student, title="校园ＷｉＦｉ升级", content="")
    scattered = to(student, title="通知", content="if fi wi")  # wi, if, fi, never wifi
    net = to(student, title="5G网络建设", content="")
    to(student, title="5G 网络", content="")  # 「5g网络」 split by a space
    client = bearer(student)
    assert ids(client.get(INBOX, {"search": "会议室"})) == [room.pk]
    assert set(ids(client.get(INBOX, {"search": "会议"}))) == {room.pk, apart.pk}  # two characters
    assert set(ids(client.get(INBOX, {"search": "议室"}))) == {room.pk, apart.pk}
    assert ids(client.get(INBOX, {"search": "wifi"})) == [wifi.pk]
    assert ids(client.get(INBOX, {"search": "WIFI"})) == [wifi.pk]
    assert ids(client.get(INBOX, {"search": "ｗｉｆｉ 升级"})) == [wifi.pk]
    assert set(ids(client.get(INBOX, {"search": "if"}))) == {wifi.pk, scattered.pk}
    assert ids(client.get(INBOX, {"search": "5g网络"})) == [net.pk]
    # Each segment is a phrase of its own, in the title or the content, not across them.
    assert ids(client.get(INBOX, {"search": "会议室 启用"})) == [room.pk]
    assert ids(client.get(INBOX, {"search": "纪要签订"})) == []
    assert ids(client.get(INBOX, {"search": "协议室外"})) == [apart.pk]


def test_phrase_search_in_the_admin_list(bearer, student, superuser):
    room = services.message_send(sender=superuser, title="会议室开放", recipient_ids=[student.pk])
    services.message_send(sender=superuser, title="会议纪要", content="协议室", recipient_ids=[student.pk])
    assert ids(bearer(superuser).get(ADMIN_LIST, {"search": "会议室"})) == [room.pk]


def test_results_are_ranked_by_relevance_title_first(bearer, student):
    in_content = to(student, title="后勤通知", content="本周三下午召开会议。")
    in_title = to(student, title="会议安排", content="详见附件。")
    in_both = to(student, title="会议纪要", content="会议决定：会议室改造。")
    newest_unrelated = to(student, title="会议室预约", content="")  # newest, one title hit
    order = ids(bearer(student).get(INBOX, {"search": "会议"}))
    assert order[0] == in_both.pk
    assert order[-1] == in_content.pk
    assert set(order) == {in_content.pk, in_title.pk, in_both.pk, newest_unrelated.pk}


def test_search_follows_edits_and_only_my_messages(bearer, student):
    mine = to(student, title="普通通知", content="")
    to(UserFactory(), title="会议（别人的）")
    client = bearer(student)
    assert ids(client.get(INBOX, {"search": "会议"})) == []
    services.message_update(message=mine, data={"content": "明天上午的会议改到下午。"})
    assert ids(client.get(INBOX, {"search": "会议"})) == [mine.pk]
    services.message_update(message=mine, data={"content": "取消"})
    assert ids(client.get(INBOX, {"search": "会议"})) == []


def test_sent_messages_are_indexed_and_admin_list_searches(bearer, student, superuser):
    message = services.message_send(sender=superuser, title="关于报销的说明", recipient_ids=[student.pk])
    assert MessageSearchTerm.objects.filter(message=message, term="报销").exists()
    assert ids(bearer(superuser).get(ADMIN_LIST, {"search": "报销"})) == [message.pk]
    assert ids(bearer(superuser).get(ADMIN_LIST, {"search": "会议"})) == []


def test_search_combines_with_the_other_filters_and_paginates(bearer, student):
    a = to(student, title="会议一", type="reminder")
    to(student, title="会议二", type="notification")
    client = bearer(student)
    assert ids(client.get(INBOX, {"search": "会议", "type": "reminder"})) == [a.pk]
    body = client.get(INBOX, {"search": "会议", "page_size": 1}).json()["data"]
    assert body["pagination"]["total_items"] == 2 and len(body["messages"]) == 1


def test_a_too_long_query_is_a_400(bearer, student):
    assert_error(bearer(student).get(INBOX, {"search": "会" * 101}), 400)


def test_rebuild_command_restores_the_index(student):
    a = to(student, title="会议通知", content="")
    MessageSearchTerm.objects.all().delete()
    call_command("rebuild_message_search", verbosity=0)
    assert set(MessageSearchTerm.objects.filter(message=a).values_list("term", flat=True)) == {
        "会议",
        "议通",
        "通知",
        "知",
    }


def test_search_takes_constant_queries(bearer, student, django_assert_num_queries):
    client = bearer(student)
    to(student, title="会议一")
    # token, count, page ids, page rows, attachments
    with django_assert_num_queries(5):
        assert len(ids(client.get(INBOX, {"search": "会议"}))) == 1
    for n in range(6):
        to(student, title=f"会议{n}", content="会议" * n)
        GlobalMessageFactory(title=f"全校会议{n}")
    with django_assert_num_queries(5):
        assert len(ids(client.get(INBOX, {"search": "会议", "page_size": 20}))) == 13


@pytest.mark.mariadb
def test_two_character_queries_on_mariadb(bearer, student):
    """The same index on MariaDB, whose FULLTEXT would not split Chinese."""
    from django.db import connection

    if connection.vendor != "mysql":
        pytest.skip("MariaDB only")
    meeting = to(student, title="教职工大会", content="请准时参加会议")
    expense = to(student, title="报销流程", content="")
    client = bearer(student)
    assert ids(client.get(INBOX, {"search": "会议"})) == [meeting.pk]
    assert ids(client.get(INBOX, {"search": "报销"})) == [expense.pk]
    assert ids(client.get(INBOX, {"search": "报"})) == [expense.pk]
    assert Message.objects.count() == 2
