"""Message management in the Django admin: compose, list, recipients, actions, report, export."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.tests.factories import DepartmentFactory, SchoolClassFactory, StudentFactory, UserFactory
from messaging import services
from messaging.models import Message, MessageRecipient
from messaging.tests.factories import GlobalMessageFactory, MessageFactory, MessageRecipientFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:messaging_message_changelist")
ADD = reverse("admin:messaging_message_add")
REPORT = reverse("admin:messaging_message_report")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def staff_admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def compose(**fields):
    now = timezone.localtime()
    data = {
        "title": "期末考试安排",
        "content": "请查看附件",
        "type": "announcement",
        "priority": "high",
        "published_at_0": now.strftime("%Y-%m-%d"),
        "published_at_1": now.strftime("%H:%M:%S"),
        "expires_at_0": "",
        "expires_at_1": "",
    }
    data.update(fields)
    return data


def test_changelist_shows_audience_read_count_rate_and_state(admin_client):
    message = MessageFactory(title="班会通知", audience_size=4)
    for i in range(4):
        MessageRecipientFactory(message=message, read_at=timezone.now() if i < 3 else None)
    GlobalMessageFactory(title="全体大会", audience_size=0, is_active=False)

    response = admin_client.get(CHANGELIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert "班会通知" in html and "75.0%" in html and "全体大会" in html and "已撤回" in html
    assert "统计报表" in html


def test_changelist_search_and_filters(admin_client):
    MessageFactory(title="宿舍检查", type="reminder")
    MessageFactory(title="奖学金评定", type="approval")
    html = admin_client.get(CHANGELIST, {"q": "奖学金"}).content.decode()
    assert "奖学金评定" in html and "宿舍检查" not in html
    html = admin_client.get(CHANGELIST, {"type__exact": "reminder"}).content.decode()
    assert "宿舍检查" in html and "奖学金评定" not in html
    scheduled = MessageFactory(title="明日预告", published_at=timezone.now() + timedelta(days=1))
    html = admin_client.get(CHANGELIST, {"state": "scheduled"}).content.decode()
    assert scheduled.title in html and "宿舍检查" not in html


def test_changelist_query_count_is_constant(admin_client, django_assert_max_num_queries):
    MessageFactory()
    with django_assert_max_num_queries(12) as few:
        admin_client.get(CHANGELIST)
    for _ in range(8):
        MessageRecipientFactory(message=MessageFactory(sender=UserFactory()))
    with django_assert_max_num_queries(len(few)):
        admin_client.get(CHANGELIST)


def test_senders_see_only_their_own_messages(staff_admin_client, staff_user):
    MessageFactory(title="我的消息", sender=staff_user)
    theirs = MessageFactory(title="别人的消息")
    html = staff_admin_client.get(CHANGELIST).content.decode()
    assert "我的消息" in html and "别人的消息" not in html
    assert staff_admin_client.get(
        reverse("admin:messaging_message_change", args=[theirs.pk])
    ).status_code in (302, 404)


def test_non_staff_users_cannot_reach_message_admin(client, user):
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302  # to the admin login


def test_user_picker_autocompletes_users(admin_client):
    UserFactory(username="T77001", last_name="欧阳", first_name="修")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "messaging", "model_name": "message", "field_name": "recipient_users", "term": "欧阳"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["T77001-欧阳修"]


def test_compose_a_targeted_message_with_audience_pickers(admin_client, superuser):
    dept = DepartmentFactory()
    in_dept = UserFactory(department=dept)
    school_class = SchoolClassFactory()
    student = StudentFactory(school_class=school_class)
    direct = UserFactory()

    response = admin_client.post(
        ADD,
        compose(
            recipients=[direct.pk],
            audience_departments=[dept.pk],
            audience_classes=[school_class.pk],
            kinds=[],
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    message = Message.objects.get()
    assert message.sender == superuser
    addressed = set(message.recipient_users.values_list("pk", flat=True))
    assert {in_dept.pk, student.pk, direct.pk} <= addressed
    assert message.audience_user_ids == [direct.pk]
    assert set(message.audience_departments.all()) == {dept}


def test_compose_global_and_scheduled(admin_client):
    later = timezone.localtime() + timedelta(days=2)
    response = admin_client.post(
        ADD,
        compose(
            is_global="on",
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
            expires_at_0=(later + timedelta(days=5)).strftime("%Y-%m-%d"),
            expires_at_1="23:59:59",
        ),
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.is_global and not message.is_published
    assert MessageRecipient.objects.count() == 0


def test_compose_errors_are_shown_on_the_form(staff_admin_client):
    response = staff_admin_client.post(ADD, compose())
    assert response.status_code == 200
    assert "请选择接收者" in response.content.decode()
    response = staff_admin_client.post(ADD, compose(is_global="on"))
    assert "您没有发送全局消息的权限" in response.content.decode()
    empty = DepartmentFactory()
    response = staff_admin_client.post(ADD, compose(audience_departments=[empty.pk]))
    assert "没有可接收消息的用户" in response.content.decode()
    assert not Message.objects.exists()


def test_edit_goes_through_the_service_and_can_add_recipients(admin_client, superuser):
    message = MessageRecipientFactory(message=MessageFactory(sender=superuser)).message
    newcomer = UserFactory()
    url = reverse("admin:messaging_message_change", args=[message.pk])
    assert admin_client.get(url).status_code == 200
    published = timezone.localtime(message.published_at)
    response = admin_client.post(
        url,
        {
            "title": "改过的标题",
            "content": message.content,
            "type": message.type,
            "priority": "urgent",
            "published_at_0": published.strftime("%Y-%m-%d"),
            "published_at_1": published.strftime("%H:%M:%S.%f"),
            "expires_at_0": "",
            "expires_at_1": "",
            "is_active": "on",
            "add_recipients": [newcomer.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    message.refresh_from_db()
    assert message.title == "改过的标题" and message.priority == "urgent"
    assert MessageRecipient.objects.filter(message=message, recipient=newcomer).exists()
    assert message.audience_size == 2


def test_recipients_page_filters_who_has_not_read(admin_client):
    message = MessageFactory()
    reader = MessageRecipientFactory(message=message, recipient=UserFactory(username="READER1")).recipient
    waiting = MessageRecipientFactory(message=message, recipient=UserFactory(username="WAIT1")).recipient
    services.message_mark_read(user=reader, message_ids=[message.pk])
    url = reverse("admin:messaging_message_recipients", args=[message.pk])

    everyone = admin_client.get(url).content.decode()
    unread = admin_client.get(url, {"state": "unread"}).content.decode()
    read = admin_client.get(url, {"state": "read"}).content.decode()

    assert "READER1" in everyone and "WAIT1" in everyone
    assert "WAIT1" in unread and "READER1" not in unread
    assert "READER1" in read and "WAIT1" not in read
    assert waiting.username in admin_client.get(url, {"q": "WAIT"}).content.decode()


def test_recipients_page_of_a_global_message_lists_every_active_user(admin_client, superuser):
    message = GlobalMessageFactory(sender=superuser)
    reader, idle = UserFactory(username="G_READER"), UserFactory(username="G_IDLE")
    services.message_mark_read(user=reader, message_ids=[message.pk])
    url = reverse("admin:messaging_message_recipients", args=[message.pk])
    unread = admin_client.get(url, {"state": "unread"}).content.decode()
    assert idle.username in unread and reader.username not in unread


def test_withdraw_republish_and_copy_actions(admin_client, superuser, user):
    message = GlobalMessageFactory(
        title="原消息", published_at=timezone.now() - timedelta(days=1), sender=superuser
    )

    admin_client.post(CHANGELIST, {"action": "withdraw", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert not message.is_active

    admin_client.post(CHANGELIST, {"action": "republish", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert message.is_active and message.published_at > timezone.now() - timedelta(minutes=1)

    response = admin_client.post(CHANGELIST, {"action": "copy_as_new", "_selected_action": [message.pk]})
    assert response.status_code == 302 and f"copy_from={message.pk}" in response["Location"]
    form = admin_client.get(response["Location"]).content.decode()
    assert 'value="原消息"' in form


def test_delete_goes_through_the_service(admin_client, superuser):
    message = MessageRecipientFactory(message=MessageFactory(sender=superuser)).message
    response = admin_client.post(
        reverse("admin:messaging_message_delete", args=[message.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Message.objects.exists() and not MessageRecipient.objects.exists()


def test_report_page_with_charts_and_breakdowns(admin_client):
    dept = DepartmentFactory(name="软件工程系")
    readers = UserFactory.create_batch(2, department=dept)
    targeted = services.message_send(title="系务会", type="reminder", recipient_ids=[u.pk for u in readers])
    services.message_mark_read(user=readers[0], message_ids=[targeted.pk])
    GlobalMessageFactory(title="全校通知", audience_size=10)

    response = admin_client.get(REPORT, {"granularity": "month"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "软件工程系" in html and "50.0%" in html
    report = response.context["report"]
    assert report.total.messages == 2 and report.total.audience == 12 and report.total.read == 1
    assert {r.label: r.messages for r in report.by_type}["提醒"] == 1
    assert report.by_department[0].label == "软件工程系" and report.by_department[0].audience == 2


def test_report_rejects_reversed_dates(admin_client):
    response = admin_client.get(REPORT, {"date_from": "2024-02-01", "date_to": "2024-01-01"})
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_report_excel_export(admin_client):
    reader = UserFactory()
    message = services.message_send(title="导出测试", recipient_ids=[reader.pk])
    services.message_mark_read(user=reader, message_ids=[message.pk])

    response = admin_client.get(REPORT, {"export": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "按周期",
        "按类型",
        "按优先级",
        "按分类",
        "按系所（定向）",
        "按班级（定向）",
        "消息明细",
    ]
    rows = list(workbook["消息明细"].iter_rows(values_only=True))
    assert rows[1][1] == "导出测试" and rows[1][7:10] == (1, 1, 1.0)
    assert rows[0][10] == "分类" and rows[1][10] in ("", None)


def test_administrators_see_every_message_but_change_only_their_own(admin_client, superuser):
    theirs = MessageRecipientFactory(message=MessageFactory(title="别人的消息")).message
    change = reverse("admin:messaging_message_change", args=[theirs.pk])

    assert "别人的消息" in admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(change)
    assert page.status_code == 200 and 'name="title"' not in page.content.decode()  # read-only
    assert admin_client.post(change, {"title": "改"}).status_code == 403
    admin_client.post(CHANGELIST, {"action": "withdraw", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.title == "别人的消息"
    assert (
        admin_client.post(
            reverse("admin:messaging_message_delete", args=[theirs.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Message.objects.filter(pk=theirs.pk).exists()
