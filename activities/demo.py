"""Demo data for activities: one open now (every field type, 签到/签退 running for the next hours),
one finished with clock-in records, one full with a waiting list."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from .form_schema import dumps, form_schema_dumps
from .models import (
    Activity,
    ClockinItem,
    ClockinKind,
    ClockinRecord,
    ClockinSource,
    Enrollment,
    EnrollmentStatus,
)

User = get_user_model()

OPEN_FORM = {
    "姓名": {"type": "text", "required": True, "max": 20, "help": "请填写真实姓名"},
    "学号/工号": {"type": "number", "required": True, "min": 1},
    "性别": {"type": "radio", "choices": ["男", "女"], "default": "男"},
    "感兴趣的方向": {
        "type": "checkbox",
        "choices": ["人工智能", "网络安全", "软件工程", "数据科学"],
        "max": 3,
    },
    "出生日期": {"type": "date", "min": "1950-01-01", "max": "2012-12-31"},
    "手机": {"type": "phone", "required": True},
    "电子邮箱": {"type": "email"},
    "想问讲者的问题": {"type": "textarea", "max": 500},
}
SIMPLE_FORM = {"姓名": {"type": "text", "required": True}, "手机": {"type": "phone"}}


def _activity(name, **fields) -> Activity:
    activity = Activity.objects.filter(name=name).first()
    if activity is None:
        activity = Activity(name=name, **fields)
        activity.full_clean()
        activity.save()
    return activity


def _item(activity, label, kind, start, end, officers=()) -> ClockinItem:
    item, _ = ClockinItem.objects.get_or_create(
        activity=activity, label=label, defaults={"kind": kind, "from_time": start, "to_time": end}
    )
    if officers:
        item.officers.add(*officers)
    return item


def _enroll(activity, user, answers, status=EnrollmentStatus.ENROLLED) -> Enrollment:
    enrollment, _ = Enrollment.objects.get_or_create(
        activity=activity, user=user, defaults={"participating_metas": dumps(answers), "status": status}
    )
    return enrollment


def seed(out) -> list[str]:
    rng = random.Random(6)
    now = timezone.now().replace(second=0, microsecond=0)
    students = list(User.objects.filter(username__startswith="S").order_by("username")[:100])
    teachers = list(User.objects.filter(username__startswith="T").order_by("username")[:30])
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    officers = [u for u in (admin, *teachers[:1]) if u]

    # 1. Open now, every field type, 签到/签退 windows covering the next hours.
    lecture = _activity(
        "人工智能前沿讲座",
        description="邀请校外专家介绍大模型与智能体的最新进展，欢迎师生参加。",
        location="勤学楼 1101 报告厅",
        time_start=now - timedelta(minutes=30),
        time_end=now + timedelta(hours=5),
        open_for_enrollment=True,
        participants_total_limit=200,
        form_metas=form_schema_dumps(OPEN_FORM),
    )
    _item(lecture, "签到", ClockinKind.CHECK_IN, now - timedelta(hours=1), now + timedelta(hours=3), officers)
    _item(lecture, "签退", ClockinKind.CHECK_OUT, now, now + timedelta(hours=6), officers)
    for i, student in enumerate(students[:40]):
        _enroll(
            lecture,
            student,
            {
                "姓名": student.full_name,
                "学号/工号": int(student.username[1:]),
                "性别": rng.choice(["男", "女"]),
                "感兴趣的方向": rng.sample(["人工智能", "网络安全", "软件工程", "数据科学"], k=1 + i % 3),
                "出生日期": f"200{i % 6}-0{1 + i % 9}-1{i % 9}",
                "手机": student.phone or "13800000000",
                "电子邮箱": student.email,
                "想问讲者的问题": "",
            },
        )

    # 2. Finished, with records: some late, some left early, some missing, one added by hand.
    seminar = _activity(
        "新生入学教育报告会",
        description="学院新生入学教育。",
        location="大礼堂",
        time_start=now - timedelta(days=7, hours=2),
        time_end=now - timedelta(days=7),
        open_for_enrollment=False,
        form_metas=form_schema_dumps(SIMPLE_FORM),
    )
    sign_in = _item(
        seminar,
        "签到",
        ClockinKind.CHECK_IN,
        seminar.time_start - timedelta(minutes=30),
        seminar.time_start + timedelta(minutes=30),
    )
    sign_out = _item(
        seminar,
        "签退",
        ClockinKind.CHECK_OUT,
        seminar.time_end - timedelta(minutes=30),
        seminar.time_end + timedelta(minutes=30),
    )
    if not ClockinRecord.objects.filter(item__activity=seminar).exists():
        for i, student in enumerate(students[:60]):
            enrollment = _enroll(seminar, student, {"姓名": student.full_name, "手机": ""})
            if i % 10 != 9:  # one in ten never came
                late = i % 7 == 0
                record = ClockinRecord.objects.create(
                    item=sign_in,
                    enrollment=enrollment,
                    user=student,
                    source=ClockinSource.MANUAL if i == 0 else ClockinSource.QR,
                    recorded_by=admin if i == 0 else None,
                )
                when = seminar.time_start + timedelta(
                    minutes=rng.randint(1, 20) if late else -rng.randint(1, 25)
                )
                ClockinRecord.objects.filter(pk=record.pk).update(created_at=when)
                if i % 5 != 4:  # some left without signing out
                    record = ClockinRecord.objects.create(item=sign_out, enrollment=enrollment, user=student)
                    early = i % 11 == 0
                    when = seminar.time_end + timedelta(
                        minutes=-rng.randint(10, 25) if early else rng.randint(1, 20)
                    )
                    ClockinRecord.objects.filter(pk=record.pk).update(created_at=when)

    # 3. Full, with a waiting list.
    workshop = _activity(
        "Python 数据分析工作坊",
        description="动手实践，名额有限。",
        location="实验楼 305 机房",
        time_start=now + timedelta(days=3),
        time_end=now + timedelta(days=3, hours=3),
        open_for_enrollment=True,
        participants_total_limit=10,
        waiting_list_enabled=True,
        form_metas=form_schema_dumps(SIMPLE_FORM),
    )
    _item(
        workshop,
        "签到",
        ClockinKind.CHECK_IN,
        workshop.time_start - timedelta(minutes=30),
        workshop.time_start + timedelta(minutes=30),
    )
    for i, person in enumerate(students[60:75]):
        status = EnrollmentStatus.ENROLLED if i < 10 else EnrollmentStatus.WAITING
        _enroll(workshop, person, {"姓名": person.full_name, "手机": ""}, status)

    return [
        f"活动：「{lecture.name}」正在进行（签到/签退二维码见后台 打卡项 → 投影二维码），"
        f"「{seminar.name}」已结束（见 签到统计），「{workshop.name}」已满员并有候补。",
    ]
