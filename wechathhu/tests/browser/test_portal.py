"""The H5 portal on a phone (390 × 844, touch): a student's day and a clock-in officer's screen,
with a screenshot of every page (test-artifacts/screenshots/portal-*.png) and axe-core run on every
page with WCAG 2.2's target-size rule switched on: no serious or critical violation anywhere."""

import io
import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.tests.factories import StudentFactory, UserFactory
from activities import qr
from activities.models import ClockinRecord, Enrollment
from activities.tests.factories import ActivityFactory, ClockinItemFactory
from guides.models import GuideMailRequest
from guides.tests.factories import GuideFactory
from messaging.models import MessageRecipient
from messaging.tests.factories import MessageFactory, MessageRecipientFactory
from repairs.models import RepairRequest
from repairs.tests.factories import FaultCategoryFactory
from reservations.models import Reservation
from reservations.tests.factories import MeetingroomFactory

from .conftest import SCREENSHOTS, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
AXE = Axe()
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
SERIOUS = {"serious", "critical"}


@pytest.fixture
def phone(browser, live_server, settings, request):
    """A phone-sized, touch page of its own (cookies apart), the live server as SITE_URL."""
    settings.SITE_URL = live_server.url
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.checked = []
    yield page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:  # where it stopped, for a CI run to be looked at afterwards
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"portal-{request.node.name}-FAILED.png", full_page=True)
    context.close()


def check(page, name: str) -> None:
    """Screenshot the page and run axe on it: no serious or critical violation, tap targets included."""
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"portal-{name}.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {page.viewport_size['width']}px"
    results = AXE.run(page, options=AXE_OPTIONS)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in bad
    )
    assert not bad, f"axe on {name} ({page.url}):\n{report}"
    page.checked.append(name)


def sign_in(page, user, password):
    page.goto("/m/")
    page.wait_for_url(re.compile(r"/m/login/"))
    check(page, "login")
    page.get_by_label("工号/学号").fill(user.username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    # The home page itself, not the login page's "?next=/m/" (which also ends in /m/).
    page.wait_for_url(re.compile(r"^https?://[^/?]+/m/$"))


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_students_day_on_the_phone(phone, password):
    student = StudentFactory(last_name="李", first_name="四")
    UserFactory(
        last_name="张",
        first_name="三",
        name_pinyin="zhangsan",
        name_initials="zs",
        post="辅导员",
        phone="13800000000",
        phone_visibility="everyone",
        department=student.department,
    )
    notice = MessageFactory(title="期末考试安排", content="考试安排见附件。")
    MessageRecipientFactory(recipient=student, message=notice)
    room = MeetingroomFactory(name="勤学楼 402", location="勤学楼 4 楼", seats_count=12)
    activity = ActivityFactory(name="人工智能前沿讲座", time_start=timezone.now() + timedelta(hours=1))
    item = ClockinItemFactory(activity=activity, label="签到")
    guide = GuideFactory(name="报销流程说明")
    FaultCategoryFactory(name="投影设备")

    page = phone
    sign_in(page, student, password)
    check(page, "home")

    # 消息: the unread badge, the inbox, a message opened (marked read).
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("消息")).click()
    page.wait_for_url(re.compile(r"/m/messages/"))
    check(page, "inbox")
    page.get_by_role("link", name=re.compile("期末考试安排")).click()
    page.wait_for_url(re.compile(r"/m/messages/\d+/"))
    expect(page.get_by_role("heading", name="期末考试安排")).to_be_visible()
    check(page, "message")
    assert MessageRecipient.objects.get(message=notice, recipient=student).read_at is not None

    # 通讯录: search by pinyin initials, open the card, call link.
    page.goto("/m/contacts/")
    check(page, "contacts")
    page.get_by_label("搜索通讯录").fill("zs")
    page.get_by_role("button", name="搜索").click()
    # The results page first: the unfiltered list may show the same link, and a click on it while
    # the search is loading is lost (seen on a loaded machine running the suite in parallel).
    page.wait_for_url(re.compile(r"/m/contacts/\?q=zs"))
    # A student's colleagues are nobody (colleagues are a department's teachers and staff): the
    # counsellor is found among everyone.
    page.get_by_role("link", name="全部", exact=True).click()
    page.wait_for_url(re.compile(r"/m/contacts/\?.*scope=all"))
    page.get_by_role("link", name=re.compile("张三")).click()
    page.wait_for_url(re.compile(r"/m/contacts/\d+/"))
    expect(page.locator('a[href="tel:13800000000"]')).to_be_visible()
    check(page, "person")

    # 会议室: the day grid, then the free-slot search by length and a booking.
    page.goto("/m/rooms/")
    check(page, "rooms-day")
    page.goto("/m/rooms/search/")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page.get_by_label("日期").fill(tomorrow)
    page.get_by_label("最早开始").fill("09:00")
    page.get_by_label("最晚结束").fill("12:00")
    page.get_by_label("会议时长").select_option("90")
    page.get_by_role("button", name="查找空闲会议室").click()
    page.wait_for_url(re.compile(r"length=90"))
    check(page, "rooms-search")
    page.get_by_role("link", name=re.compile("预约 勤学楼 402 09:00 到 10:30")).click()
    page.wait_for_url(re.compile(r"/m/rooms/book/"))
    check(page, "room-book")
    page.get_by_label("会议主题").fill("课题组例会")
    page.get_by_role("button", name="确认预约").click()
    page.wait_for_url(re.compile(r"/m/rooms/mine/"))
    check(page, "my-bookings")
    assert Reservation.objects.filter(user=student, meetingroom=room, description="课题组例会").exists()

    # 活动: the list, an activity, enrolling with its custom form.
    page.goto("/m/activities/")
    check(page, "activities")
    page.get_by_role("link", name=re.compile("人工智能前沿讲座")).click()
    page.wait_for_url(re.compile(r"/m/activities/\d+/$"))
    check(page, "activity")
    page.get_by_role("link", name="我要报名").click()
    page.wait_for_url(re.compile(r"/enroll/"))
    check(page, "enroll")
    page.get_by_role("button", name="提交报名").click()  # empty: the service says what is missing
    expect(page.get_by_text("必填项姓名不得为空。")).to_be_visible()
    check(page, "enroll-errors")
    page.get_by_label("姓名").fill("李四")
    page.get_by_label("学号").fill("2024001")
    page.get_by_label("女").check()
    page.get_by_label("编程").check()
    page.get_by_role("button", name="提交报名").click()
    page.wait_for_url(re.compile(r"/m/activities/\d+/$"))
    expect(page.get_by_text("报名成功。")).to_be_visible()
    check(page, "activity-enrolled")
    assert Enrollment.objects.filter(activity=activity, user=student).exists()

    # Clock-in: open the URL the projector's QR code shows (what any phone camera does).
    page.goto(qr.scan_url(qr.make_key(item.pk)))
    check(page, "scan")
    page.get_by_role("button", name="确认打卡").click()
    page.wait_for_url(re.compile(r"/m/activities/\d+/$"))
    expect(page.get_by_text("打卡成功：签到")).to_be_visible()
    assert ClockinRecord.objects.filter(item=item, user=student).exists()

    # 报修: a new request with a photo, then its page with the photo and the history.
    page.goto("/m/repairs/new/")
    check(page, "repair-new")
    page.get_by_label("故障分类").select_option(label="投影设备")
    page.get_by_label("地点").fill("勤学楼 201")
    page.get_by_label("故障描述").fill("投影仪不亮")
    page.get_by_label("照片").set_input_files(
        [{"name": "photo.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.get_by_role("button", name="提交报修").click()
    page.wait_for_url(re.compile(r"/m/repairs/\d+/$"))
    expect(page.get_by_role("img", name="报修照片 1")).to_be_visible()
    check(page, "repair")
    assert RepairRequest.objects.get(user=student).photos.count() == 1
    page.goto("/m/repairs/")
    check(page, "repairs")

    # 服务指南: search, open, e-mail it to me.
    page.goto("/m/guides/")
    check(page, "guides")
    page.get_by_role("link", name=re.compile("报销流程说明")).click()
    page.wait_for_url(re.compile(r"/m/guides/\d+/"))
    check(page, "guide")
    page.get_by_role("button", name="发送到我的邮箱").click()
    expect(page.get_by_text("已提交发送")).to_be_visible()
    assert GuideMailRequest.objects.filter(user=student, guide=guide).exists()

    # 我的, and the rest of the pages.
    for name, url in [
        ("me", "/m/me/"),
        ("profile", "/m/me/profile/"),
        ("card", "/m/me/card/"),
        ("avatar", "/m/me/avatar/"),
        ("devices", "/m/me/devices/"),
        ("services", "/m/services/"),
        ("preferences", "/m/messages/preferences/"),
        ("clockin-code", "/m/clockin/"),
        ("officer-list", "/m/officer/"),
    ]:
        page.goto(url)
        check(page, name)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的").click()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r"/m/login/"))
    assert page.js_errors == []


def test_the_whole_directory_loads_more_in_place(phone, password):
    """通讯录 → 全部: 50 people, then 加载更多 appends the next ones under them (htmx) without
    leaving the page; the link is a plain next-page link without JS."""
    student = StudentFactory(password=password)
    UserFactory.create_batch(60, last_name="欧阳", first_name="修")
    page = phone
    sign_in(page, student, password)
    page.goto("/m/contacts/?scope=all")
    people = page.locator('#results a.cell[href^="/m/contacts/"]')
    expect(people).to_have_count(50)
    more = page.get_by_role("link", name="加载更多")
    expect(more).to_have_attribute("href", re.compile(r"page=2"))
    more.click()
    expect(people).to_have_count(61)  # me too
    assert re.search(r"/m/contacts/\?scope=all$", page.url)  # still the first page's address
    expect(page.get_by_role("link", name="加载更多")).to_have_count(0)
    check(page, "contacts-all-more")
    assert not page.js_errors


def test_the_clock_in_officers_rotating_code_full_screen(phone, password):
    officer = UserFactory()
    item = ClockinItemFactory(label="签到", activity=ActivityFactory(name="新生入学教育"))
    item.officers.add(officer)
    page = phone
    sign_in(page, officer, password)
    page.goto("/m/officer/")
    page.get_by_role("link", name=re.compile("签到 · 新生入学教育")).click()
    page.wait_for_url(re.compile(r"/m/officer/\d+/"))
    expect(page.get_by_role("img", name="打卡二维码")).to_be_visible()
    assert page.locator(".shortcode").inner_text() in (
        qr.short_code(item.pk),
        qr.short_code(item.pk, step=qr.current_step() - 1),
    )
    check(page, "officer-code")
    assert page.js_errors == []


def test_a_counsellor_composes_to_a_class_and_watches_it_being_read(phone, password):
    from accounts.tests.factories import SchoolClassFactory
    from messaging.models import Message

    teacher = UserFactory(last_name="王", first_name="老师")  # a counsellor, no sender role
    school_class = SchoolClassFactory(name="计科2401")
    school_class.counsellors.add(teacher)
    StudentFactory.create_batch(3, school_class=school_class)
    page = phone
    sign_in(page, teacher, password)
    page.goto("/m/services/")
    page.get_by_role("link", name=re.compile("^发消息")).click()
    page.wait_for_url(re.compile(r"/m/compose/"))
    check(page, "compose")
    page.get_by_label("标题").fill("周五班会")
    page.get_by_label("内容").fill("周五晚七点在勤学楼 101 开班会。")
    page.get_by_label("计科2401").check()
    page.get_by_label("优先级").select_option("high")
    page.get_by_role("button", name="发送").click()
    page.wait_for_url(re.compile(r"/m/sent/\d+/"))
    expect(page.get_by_text("已发送，共 3 位接收者。")).to_be_visible()
    expect(page.get_by_text("已读 0 / 3")).to_be_visible()
    check(page, "sent-message")
    assert Message.objects.get(title="周五班会").audience_size == 3
    page.goto("/m/sent/")
    check(page, "sent")
    assert page.js_errors == []


def test_pages_reflow_at_320_css_pixels(browser, live_server, settings, password):
    """WCAG 1.4.10: at 320 CSS px (a 1280 px window at 400 %, a small phone at 200 %) nothing needs
    sideways scrolling; the day grid scrolls inside its own region."""
    settings.SITE_URL = live_server.url
    student = StudentFactory()
    MessageRecipientFactory(recipient=student, message=MessageFactory(title="一条很长很长的消息标题" * 4))
    MeetingroomFactory(location="勤学楼 4 楼")
    ActivityFactory(name="一个名字相当长的活动" * 3)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 320, "height": 640}, locale="zh-CN"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.checked = []
    try:
        sign_in(page, student, password)
        for url in (
            "/m/",
            "/m/messages/",
            "/m/contacts/",
            "/m/rooms/",
            "/m/rooms/search/",
            "/m/activities/",
            "/m/repairs/new/",
            "/m/guides/",
            "/m/me/",
            "/m/me/card/",
        ):
            page.goto(url)
            check(page, "320-" + url.strip("/").replace("/", "-"))
    finally:
        context.close()


def test_a_student_votes_comments_and_asks_and_the_teacher_answers(phone, browser, live_server, password):
    """Issue 20 items 3 and 5 on the phone: a student votes on a message's poll, comments, asks a
    private question; the teacher answers it on their sent-message page; the student reads the answer."""
    from messaging import polls
    from messaging.models import MessageComment, PollVote

    teacher = UserFactory(last_name="王", first_name="老师")
    student = StudentFactory(last_name="李", first_name="四")
    message = MessageFactory(sender=teacher, title="春季运动会报名", content="欢迎报名，有问题可以提问。")
    MessageRecipientFactory(message=message, recipient=student)
    polls.poll_create(message=message, question="你想参加哪个项目？", options=["100 米", "跳远", "拔河"])

    page = phone
    sign_in(page, student, password)
    page.goto(f"/m/messages/{message.pk}/")
    expect(page.get_by_role("heading", name="投票：你想参加哪个项目？")).to_be_visible()
    check(page, "message-poll")
    page.get_by_role("radio", name="拔河").check()
    page.get_by_role("button", name="投票").click()
    expect(page.get_by_text("投票成功。")).to_be_visible()
    expect(page.get_by_role("button", name="修改投票")).to_be_visible()
    check(page, "message-voted")
    assert [o.text for o in PollVote.objects.get(voter=student).options.all()] == ["拔河"]

    page.get_by_label("写评论或提问").fill("去年的拔河很精彩！")
    page.get_by_role("button", name="发表").click()
    expect(page.get_by_text("评论已发表。")).to_be_visible()
    page.get_by_label("写评论或提问").fill("我脚踝受过伤，可以只报拔河吗？")
    page.get_by_label("私密提问（只有发送者能看到）").check()
    page.get_by_role("button", name="发表").click()
    expect(page.get_by_text("已提问，发送者回答后会通知您。")).to_be_visible()
    check(page, "message-comments")
    question = MessageComment.objects.get(is_private=True)

    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(TIMEOUT_MS)
    teacher_page = context.new_page()
    teacher_page.checked = []
    try:
        sign_in(teacher_page, teacher, password)
        teacher_page.goto(f"/m/sent/{message.pk}/")
        expect(teacher_page.get_by_text("1 条待回答")).to_be_visible()
        check(teacher_page, "sent-questions")
        teacher_page.get_by_label("回答李四").fill("可以，注意热身。")
        teacher_page.get_by_role("button", name="回答").click()
        expect(teacher_page.get_by_text("已回答，提问者会收到通知。")).to_be_visible()
        check(teacher_page, "sent-answered")
    finally:
        context.close()
    question.refresh_from_db()
    assert question.answered_at is not None

    page.goto(f"/m/messages/{message.pk}/")
    expect(page.get_by_text("可以，注意热身。")).to_be_visible()
    assert page.js_errors == []


def test_a_student_searches_for_a_meeting_and_downloads_its_attachment(phone, password):
    """Issue 20 items 4 and 6 on the phone: 「会议」 found by the full-text search (no spaces in
    Chinese), the 热门 tab, and the attachment downloaded with its Chinese name."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from messaging import attachments
    from messaging.demo_content import demo_pdf

    student = StudentFactory(last_name="王", first_name="五")
    meeting = MessageFactory(title="全院教职工大会", content="本周五下午召开会议，议程见附件。")
    MessageRecipientFactory(recipient=student, message=meeting)
    MessageRecipientFactory(recipient=student, message=MessageFactory(title="食堂菜单", content="本周菜单"))
    pdf = demo_pdf("Agenda")
    attachments.attachments_add(
        message=meeting, uploads=[SimpleUploadedFile("会议议程.pdf", pdf)], user=meeting.sender
    )

    page = phone
    sign_in(page, student, password)
    page.goto("/m/messages/")
    page.get_by_label("搜索消息").fill("会议")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_role("link", name=re.compile("食堂菜单"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("全院教职工大会"))).to_be_visible()
    check(page, "inbox-search")

    page.get_by_role("link", name="热门").click()
    page.wait_for_url(re.compile(r"/m/messages/hot/"))
    expect(page.get_by_role("link", name=re.compile("全院教职工大会"))).to_be_visible()
    check(page, "inbox-hot")

    page.get_by_role("link", name=re.compile("全院教职工大会")).click()
    page.wait_for_url(re.compile(r"/m/messages/\d+/"))
    check(page, "message-attachments")
    with page.expect_download() as info:
        page.get_by_role("link", name="会议议程.pdf").click()
    download = info.value
    assert download.suggested_filename == "会议议程.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read() == pdf
