"""The pages do what the API does, through the same services: each domain's main flow, its bad
input as a form error (never a 500), and someone else's object as a 404."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Friendship
from accounts.tests.factories import StudentFactory, UserFactory
from activities import qr
from activities.models import ClockinRecord, Enrollment, EnrollmentStatus
from activities.tests.factories import ActivityFactory, ClockinItemFactory, EnrollmentFactory
from guides.models import GuideMailRequest
from guides.tests.factories import GuideFactory
from messaging.models import MessageRecipient
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from repairs.models import RepairRequest, RepairStatus
from repairs.tests.factories import RepairRequestFactory
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory, ReservationFactory, local

pytestmark = pytest.mark.django_db


def png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- 消息 -----------------------------------------------------------------------------------------


def test_opening_a_message_marks_it_read_and_archive_hides_it(page, student):
    message = MessageRecipientFactory(recipient=student, message=MessageFactory(title="考试安排")).message
    assert "考试安排" in page.get("/m/messages/?is_read=false").content.decode()
    assert "考试安排" in page.get(f"/m/messages/{message.pk}/").content.decode()
    assert MessageRecipient.objects.get(message=message, recipient=student).read_at is not None
    assert "考试安排" not in page.get("/m/messages/?is_read=false").content.decode()
    page.post(f"/m/messages/{message.pk}/archive/")
    assert "考试安排" not in page.get("/m/messages/").content.decode()


def test_someone_elses_message_is_404(page):
    other = MessageRecipientFactory(recipient=StudentFactory()).message
    assert page.get(f"/m/messages/{other.pk}/").status_code == 404
    assert page.post(f"/m/messages/{other.pk}/archive/").status_code == 404


def test_bad_inbox_filter_is_a_400_with_the_reason(page):
    response = page.get("/m/messages/?type=email")
    assert response.status_code == 400
    assert "类型" in response.content.decode()


# --- 通讯录 ---------------------------------------------------------------------------------------


def test_contact_search_by_pinyin_initials_and_a_friend(page, student):
    colleague = UserFactory(
        last_name="张", first_name="三", name_pinyin="zhangsan", name_initials="zs", phone="13800000000"
    )
    body = page.get("/m/contacts/?q=zs&scope=all").content.decode()
    assert "张三" in body
    response = page.post(f"/m/contacts/{colleague.pk}/friend/")
    assert response.status_code == 302
    assert Friendship.objects.filter(user=student, friend=colleague).exists()
    again = page.post(f"/m/contacts/{colleague.pk}/friend/")
    assert again.status_code == 400 and "已存在该好友关系。" in again.content.decode()
    page.post(f"/m/contacts/{colleague.pk}/friend/", {"remove": "1"})
    assert not Friendship.objects.filter(user=student, friend=colleague).exists()


def test_the_whole_directory_comes_a_page_at_a_time_with_more_in_place(page, student):
    """50 people a page, read without counting the directory: 加载更多 is a link to the next page
    (no JS) that htmx swaps for the next rows in place; past the end says so."""
    from portal.views.contacts import CONTACTS_PER_PAGE

    people = UserFactory.create_batch(CONTACTS_PER_PAGE + 5, last_name="欧", first_name="阳")
    first = page.get("/m/contacts/?scope=all").content.decode()
    assert first.count('class="cell" href="/m/contacts/') == CONTACTS_PER_PAGE
    assert 'href="/m/contacts/?page=2&amp;scope=all" hx-get="/m/contacts/?page=2&amp;scope=all"' in first
    assert 'hx-target="#contacts-more"' in first and "上一页" not in first

    second = page.get("/m/contacts/?page=2&scope=all").content.decode()
    assert second.count('class="cell" href="/m/contacts/') == len(people) + 1 - CONTACTS_PER_PAGE  # me too
    assert "上一页" in second and "加载更多" not in second and "<html" in second

    more = page.get("/m/contacts/?page=2&scope=all", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="contacts-more")
    body = more.content.decode()
    assert "<html" not in body and "搜索通讯录" not in body and "上一页" not in body
    assert body.count('class="cell" href="/m/contacts/') == len(people) + 1 - CONTACTS_PER_PAGE

    past = page.get("/m/contacts/?page=9&scope=all").content.decode()
    assert "没有更多联系人了" in past and "上一页" in past


def test_a_card_shows_only_what_its_owner_lets_me_see(page):
    person = UserFactory(
        phone="13900000000", phone_visibility="nobody", tel="025-1", tel_visibility="everyone"
    )
    body = page.get(f"/m/contacts/{person.pk}/").content.decode()
    assert "13900000000" not in body
    assert 'href="tel:025-1"' in body


def test_my_card_privacy_is_saved_through_the_service(page, student):
    data = {f"{f}_visibility": "nobody" for f in ("post", "phone", "tel", "email", "qq", "wechat")}
    response = page.post("/m/me/card/", {**data, "phone": "13700000000", "post": "班长"})
    assert response.status_code == 302
    student.refresh_from_db()
    assert (student.phone, student.phone_visibility) == ("13700000000", "nobody")


def test_an_inactive_person_is_404(page):
    gone = UserFactory(is_active=False)
    assert page.get(f"/m/contacts/{gone.pk}/").status_code == 404
    assert page.post(f"/m/contacts/{gone.pk}/friend/").status_code == 404


# --- 会议室 ---------------------------------------------------------------------------------------


def _tomorrow():
    return timezone.localdate() + timedelta(days=1)


def test_search_by_length_then_book_a_slot(page, student):
    room = MeetingroomFactory(name="勤学楼 402", seats_count=12)
    ReservationFactory(
        meetingroom=room, reserve_from=local(_tomorrow(), "09:00"), reserve_to=local(_tomorrow(), "10:00")
    )
    query = {
        "date": _tomorrow().isoformat(),
        "time_from": "09:00",
        "time_to": "12:00",
        "length": "60",
        "people_count": "10",
    }
    body = page.get("/m/rooms/search/", query).content.decode()
    assert "勤学楼 402" in body and "10:00–11:00" in body and "09:00–10:00" not in body
    start, end = local(_tomorrow(), "10:00"), local(_tomorrow(), "11:00")
    book = page.get("/m/rooms/book/", {"room": room.pk, "start": start.isoformat(), "end": end.isoformat()})
    assert book.status_code == 200 and "确认预约" in book.content.decode()
    response = page.post(
        "/m/rooms/book/",
        {"room": room.pk, "start": start.isoformat(), "end": end.isoformat(), "description": "组会"},
    )
    assert response.status_code == 302
    assert Reservation.objects.filter(user=student, meetingroom=room, reserve_from=start).exists()
    clash = page.post(
        "/m/rooms/book/",
        {"room": room.pk, "start": start.isoformat(), "end": end.isoformat(), "description": "组会"},
    )
    assert clash.status_code == 400 and "会议室在该时间段已经被占用。" in clash.content.decode()


def test_whole_window_search_lists_rooms_free_throughout(page):
    busy, free = MeetingroomFactory(name="忙"), MeetingroomFactory(name="闲")
    ReservationFactory(
        meetingroom=busy, reserve_from=local(_tomorrow(), "10:00"), reserve_to=local(_tomorrow(), "11:00")
    )
    body = page.get(
        "/m/rooms/search/", {"date": _tomorrow().isoformat(), "time_from": "09:00", "time_to": "12:00"}
    ).content.decode()
    assert f">{free.name}<" in body and f">{busy.name}<" not in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"length": "45"}, "选择一个有效的选项"),
        ({"time_from": "12:00", "time_to": "09:00"}, "早于结束时间"),
        ({"date": "2026-02-30"}, "输入一个有效的日期"),
        ({"date": "9999-12-31", "time_to": "00:00"}, "日期超出范围"),
        ({"date": "0001-01-01"}, "结束时间必须在现在以后"),
        ({"date": "1999-01-01"}, "结束时间必须在现在以后"),
        ({"people_count": "1e999"}, "输入整数"),
    ],
)
def test_bad_search_input_is_a_form_error(page, query, message):
    base = {"date": _tomorrow().isoformat(), "time_from": "09:00", "time_to": "12:00"}
    response = page.get("/m/rooms/search/", {**base, **query})
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"room": "x", "start": "a", "end": "b", "description": "x"},
        {
            "room": "99999999999999999999",
            "start": "2026-01-01T10:00",
            "end": "2026-01-01T11:00",
            "description": "x",
        },
        {"room": "1", "start": "2026-13-45T99:00", "end": "2026-01-01T11:00", "description": "x"},
    ],
)
def test_bad_booking_input_is_a_form_error(page, data):
    MeetingroomFactory()
    assert page.post("/m/rooms/book/", data).status_code == 400


def test_my_bookings_and_cancel_someone_elses_is_404(page, student):
    mine = ReservationFactory(user=student)
    theirs = ReservationFactory()
    assert mine.meetingroom.name in page.get("/m/rooms/mine/").content.decode()
    assert page.post(f"/m/rooms/mine/{theirs.pk}/cancel/").status_code == 404
    assert page.post(f"/m/rooms/mine/{mine.pk}/cancel/").status_code == 302
    assert not Reservation.objects.filter(pk=mine.pk).exists()


def test_day_grid_shows_bookings_and_free_cells(page):
    room = MeetingroomFactory(location="勤学楼 4 楼")
    ReservationFactory(
        meetingroom=room,
        reserve_from=local(_tomorrow(), "09:00"),
        reserve_to=local(_tomorrow(), "10:00"),
        description="答辩",
    )
    body = page.get(
        "/m/rooms/", {"date": _tomorrow().isoformat(), "location": "勤学楼 4 楼"}
    ).content.decode()
    assert room.name in body and "答辩" in body and "空闲，点按预约" in body


# --- 活动 -----------------------------------------------------------------------------------------


def test_enrol_with_the_custom_form(page, student):
    activity = ActivityFactory()
    form = page.get(f"/m/activities/{activity.pk}/enroll/").content.decode()
    assert "姓名" in form and 'type="radio"' in form and 'type="checkbox"' in form
    response = page.post(
        f"/m/activities/{activity.pk}/enroll/", {"f0": "李四", "f1": "20", "f2": "女", "f3": ["编程", "运动"]}
    )
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(activity=activity, user=student)
    assert '"爱好":["编程","运动"]' in enrollment.participating_metas


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"f1": "20", "f3": ["编程"]}, "必填项姓名不得为空。"),
        ({"f0": "李四", "f1": "二十", "f3": ["编程"]}, "数字不合法（字段：学号）"),
        ({"f0": "李四", "f3": ["游泳"]}, "选择一个有效的选项"),
        ({"f0": "x" * 300, "f3": ["编程"]}, "最多填写 200 个字"),
    ],
)
def test_enrolment_errors_are_the_services_on_the_field(page, student, data, message):
    activity = ActivityFactory()
    response = page.post(f"/m/activities/{activity.pk}/enroll/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Enrollment.objects.filter(activity=activity, user=student).exists()


def test_full_activity_offers_the_waiting_list_and_shows_the_position(page, student):
    activity = ActivityFactory(participants_total_limit=1, waiting_list_enabled=True)
    EnrollmentFactory(activity=activity)
    data = {"f0": "李四", "f3": ["编程"], "join_waiting_list": "1"}
    assert page.post(f"/m/activities/{activity.pk}/enroll/", data).status_code == 302
    assert Enrollment.objects.get(activity=activity, user=student).status == EnrollmentStatus.WAITING
    assert "候补第 <strong>1</strong> 位" in page.get(f"/m/activities/{activity.pk}/").content.decode()


def test_clock_in_by_opening_the_qr_codes_url(page, student):
    item = ClockinItemFactory(label="签到")
    EnrollmentFactory(activity=item.activity, user=student)
    url = qr.scan_url(qr.make_key(item.pk))
    path = url.split("://", 1)[1].split("/", 1)[1]
    landing = page.get("/" + path)
    assert landing.status_code == 200 and "确认打卡" in landing.content.decode()
    response = page.post("/" + path)
    assert response.status_code == 302
    assert ClockinRecord.objects.filter(item=item, user=student).exists()


def test_an_expired_or_forged_qr_url_says_so(page, student):
    item = ClockinItemFactory()
    EnrollmentFactory(activity=item.activity, user=student)
    old = qr.make_key(item.pk, step=qr.current_step() - 3)
    response = page.post(f"/m/c/{old}/")
    assert response.status_code == 400 and "打卡二维码已过期" in response.content.decode()
    assert "打卡二维码异常" in page.get("/m/c/HHUCK1.1.2.forged/").content.decode()


def test_clock_in_with_the_typed_short_code(page, student):
    item = ClockinItemFactory(label="签到")
    EnrollmentFactory(activity=item.activity, user=student)
    wrong = page.post(
        f"/m/activities/{item.activity_id}/code/",
        {"code": "000000" if qr.short_code(item.pk) != "000000" else "111111"},
    )
    assert wrong.status_code == 400 and "打卡码不正确" in wrong.content.decode()
    response = page.post(f"/m/activities/{item.activity_id}/code/", {"code": qr.short_code(item.pk)})
    assert response.status_code == 302
    assert ClockinRecord.objects.filter(item=item, user=student).exists()


def test_short_code_attempts_are_throttled(page, student, settings):
    settings.ACTIVITIES_CLOCKIN_CODE_RATE = "2/min"
    item = ClockinItemFactory()
    EnrollmentFactory(activity=item.activity, user=student)
    for _ in range(2):
        page.post(f"/m/activities/{item.activity_id}/code/", {"code": "123 456"})
    response = page.post(f"/m/activities/{item.activity_id}/code/", {"code": qr.short_code(item.pk)})
    assert response.status_code == 429
    assert not ClockinRecord.objects.exists()


def test_activity_for_another_audience_is_404(page):
    hidden = ActivityFactory(audience_everyone=False)
    for url in (f"/m/activities/{hidden.pk}/", f"/m/activities/{hidden.pk}/enroll/"):
        assert page.get(url).status_code == 404
    assert page.post(f"/m/enrollments/{EnrollmentFactory().pk}/cancel/").status_code == 404


def test_the_officer_sees_the_rotating_code_others_get_404(browser_for, student):
    item = ClockinItemFactory()
    officer = UserFactory()
    item.officers.add(officer)
    body = browser_for(officer).get(f"/m/officer/{item.pk}/").content.decode()
    assert qr.short_code(item.pk) in body and "<svg" in body
    fragment = browser_for(officer).get(f"/m/officer/{item.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b"<svg" in fragment.content
    assert browser_for(student).get(f"/m/officer/{item.pk}/").status_code == 404


# --- 报修 -----------------------------------------------------------------------------------------


def test_file_a_repair_with_a_photo(page, student):
    response = page.post(
        "/m/repairs/new/", {"location": "勤学楼 201", "description": "投影仪不亮", "photos": [png()]}
    )
    assert response.status_code == 302
    repair = RepairRequest.objects.get(user=student)
    assert repair.photos.count() == 1
    body = page.get(f"/m/repairs/{repair.pk}/").content.decode()
    assert "投影仪不亮" in body and f"/repairs/{repair.pk}/photos/" in body and "撤销报修" in body


def test_a_file_that_is_not_an_image_is_refused_on_the_field(page, student):
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = page.post("/m/repairs/new/", {"location": "勤学楼", "description": "坏了", "photos": [fake]})
    assert response.status_code == 400
    assert "不是有效的图片" in response.content.decode()
    assert not RepairRequest.objects.exists()


def test_confirm_and_rate_a_solved_repair_and_others_are_404(page, student):
    repair = RepairRequestFactory(user=student, status=RepairStatus.SOLVED, solved_at=timezone.now())
    response = page.post(f"/m/repairs/{repair.pk}/", {"action": "confirm", "rating": "5", "comment": "很快"})
    assert response.status_code == 302
    repair.refresh_from_db()
    assert (repair.status, repair.rating) == (RepairStatus.CLOSED, 5)
    assert page.post(f"/m/repairs/{repair.pk}/", {"action": "rate", "rating": "9"}).status_code == 400
    theirs = RepairRequestFactory()
    assert page.get(f"/m/repairs/{theirs.pk}/").status_code == 404
    assert page.post(f"/m/repairs/{theirs.pk}/", {"action": "cancel"}).status_code == 404


def test_reopen_needs_a_reason(page, student):
    repair = RepairRequestFactory(user=student, status=RepairStatus.SOLVED, solved_at=timezone.now())
    assert page.post(f"/m/repairs/{repair.pk}/", {"action": "reopen", "reason": ""}).status_code == 400
    assert (
        page.post(f"/m/repairs/{repair.pk}/", {"action": "reopen", "reason": "还是不亮"}).status_code == 302
    )
    repair.refresh_from_db()
    assert repair.status == RepairStatus.PROCESSING


# --- 服务指南 -------------------------------------------------------------------------------------


def test_guides_search_and_email_to_me(page, student, django_capture_on_commit_callbacks):
    guide = GuideFactory(name="报销流程说明")
    GuideFactory(name="其他表格")
    body = page.get("/m/guides/?q=报销").content.decode()
    assert "报销流程说明" in body and "其他表格" not in body
    with django_capture_on_commit_callbacks(execute=True):
        assert page.post(f"/m/guides/{guide.pk}/").status_code == 302
    assert GuideMailRequest.objects.filter(user=student, guide=guide).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [student.email]


def test_guide_mail_without_an_address_is_a_form_error(browser_for):
    nobody = UserFactory(email="")
    guide = GuideFactory()
    response = browser_for(nobody).post(f"/m/guides/{guide.pk}/")
    assert response.status_code == 400 and "尚未绑定邮箱" in response.content.decode()


def test_unpublished_guide_is_404(page):
    hidden = GuideFactory(is_published=False)
    assert page.get(f"/m/guides/{hidden.pk}/").status_code == 404
    assert page.post(f"/m/guides/{hidden.pk}/").status_code == 404


# --- Fragments and headers --------------------------------------------------------------------------


def test_an_htmx_search_gets_a_fragment_a_boosted_or_restored_one_the_whole_page(page):
    UserFactory(last_name="王", first_name="五")
    fragment = page.get("/m/contacts/?q=王五", HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and "王五" in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]
    boosted = page.get("/m/contacts/?q=王五", HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert b"<html" in boosted.content
    restored = page.get("/m/contacts/?q=王五", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<html" in restored.content


def test_unknown_portal_path_is_the_portals_404(page):
    response = page.get("/m/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode() and "HX-Request" in response["Vary"]


def test_a_form_without_csrf_is_refused_with_a_page(student):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    response = client.post("/m/repairs/new/", {"location": "x", "description": "y"})
    assert response.status_code == 403 and "页面已过期" in response.content.decode()


def test_preferences_mute_a_category_and_set_quiet_hours(page, student):
    from messaging.models import Category
    from messaging.preferences import delivery_preferences_for_user

    teaching, jobs = (
        Category.objects.create(name="教务", position=1),
        Category.objects.create(name="就业", position=2),
    )
    assert "就业" in page.get("/m/messages/preferences/").content.decode()
    data = {
        "followed": [str(teaching.pk)],
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:00",
        "preferred_channel": "wechat",
        "digest_time": "07:30",
    }
    assert page.post("/m/messages/preferences/", data).status_code == 302
    prefs = delivery_preferences_for_user(user=student)
    assert prefs.muted_category_ids == {jobs.pk} and prefs.is_quiet_at(timezone.now().replace(hour=15))
    bad = page.post("/m/messages/preferences/", {**data, "quiet_hours_end": ""})
    assert bad.status_code == 400 and "免打扰时段的开始和结束须同时填写" in bad.content.decode()


def test_inbox_filters_by_category(page, student):
    from messaging.models import Category

    teaching = Category.objects.create(name="教务", position=1)
    MessageRecipientFactory(recipient=student, message=MessageFactory(title="选课通知", category=teaching))
    MessageRecipientFactory(recipient=student, message=MessageFactory(title="食堂菜单"))
    body = page.get(f"/m/messages/?category_id={teaching.pk}").content.decode()
    assert "选课通知" in body and "食堂菜单" not in body


# --- The teachers' side -----------------------------------------------------------------------------


@pytest.fixture
def counsellor(db):
    from accounts.tests.factories import SchoolClassFactory

    teacher = UserFactory()  # no sender role: a counsellor writes to their own class
    school_class = SchoolClassFactory(name="计科2401")
    school_class.counsellors.add(teacher)
    return teacher, school_class


def test_a_counsellor_composes_to_a_class_and_sees_who_has_not_read(browser_for, counsellor):
    teacher, school_class = counsellor
    first, second = StudentFactory(school_class=school_class), StudentFactory(school_class=school_class)
    client = browser_for(teacher)
    form = client.get("/m/compose/").content.decode()
    assert "计科2401" in form
    response = client.post(
        "/m/compose/",
        {
            "title": "班会通知",
            "content": "周五晚七点班会",
            "class_ids": [school_class.pk],
            "type": "notification",
            "priority": "high",
        },
    )
    assert response.status_code == 302
    message = MessageFactory._meta.model.objects.get(title="班会通知")
    assert sorted(
        MessageRecipient.objects.filter(message=message).values_list("recipient_id", flat=True)
    ) == sorted([first.pk, second.pk])
    browser_for(first).get(f"/m/messages/{message.pk}/")  # one of them reads it
    detail = client.get(f"/m/sent/{message.pk}/").content.decode()
    assert (
        "已读 1 / 2" in detail
        and second.full_name in detail
        and first.full_name not in detail.split("未读的人")[1]
    )
    assert "班会通知" in client.get("/m/sent/").content.decode()


def test_compose_without_an_audience_is_the_services_error(browser_for, counsellor):
    teacher, _ = counsellor
    response = browser_for(teacher).post(
        "/m/compose/", {"title": "x", "content": "y", "type": "notification", "priority": "normal"}
    )
    assert response.status_code == 400 and "请指定接收者" in response.content.decode()


def test_non_senders_cannot_compose_and_others_sent_messages_are_404(page, browser_for, counsellor):
    assert page.get("/m/compose/").status_code == 403
    assert page.post("/m/compose/", {"title": "x"}).status_code == 403
    assert page.get("/m/sent/").status_code == 403
    teacher, _ = counsellor
    theirs = MessageFactory(sender=teacher)
    assert page.get(f"/m/sent/{theirs.pk}/").status_code == 404


def test_search_results_come_ten_rooms_a_page(page):
    for i in range(12):
        MeetingroomFactory(name=f"研讨室{i:02d}")
    query = {"date": _tomorrow().isoformat(), "time_from": "09:00", "time_to": "12:00", "length": "60"}
    first = page.get("/m/rooms/search/", query).content.decode()
    assert first.count("cell-title") == 10 and "第 1 / 2 页" in first
    second = page.get("/m/rooms/search/", {**query, "page": 2}).content.decode()
    assert second.count("cell-title") == 2


def test_pages_are_compressed_the_api_is_not(page):
    html = page.get("/m/contacts/", HTTP_ACCEPT_ENCODING="gzip")
    assert html["Content-Encoding"] == "gzip" and "Accept-Encoding" in html["Vary"]
    api = page.get("/contacts/", HTTP_ACCEPT_ENCODING="gzip")
    assert not api.has_header("Content-Encoding")
