"""Build a realistic data set quickly (bulk inserts, one password hash for everyone).

Each domain contributes a builder; a builder is skipped when the data is already there, so a
second run starts at once. The 5 000 000 message-recipient rows go in as raw multi-row INSERTs
(ordered by recipient, so the unique ``(recipient, message)`` index grows at its end); everything
else through ``bulk_create``. Ids are given explicitly where later rows refer to them.

Builders write only rows whose names or titles mark them as the bench's, except the messaging
builder: an unfinished messaging build (no completion marker) is cleared with ``TRUNCATE``
before it starts again, which is why the bench has a database of its own.
"""

import hashlib
import random
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from accounts.models import AuthToken, Department, SchoolClass, User, UserKind
from accounts.pinyin import name_keys

from .progress import Progress

BATCH = 5000
RAW_BATCH = 10_000
# The synthetic bench users' password: fixed (so a second run can log in to data built by the
# first), derived rather than written out, and only ever used against the bench database.
PASSWORD = hashlib.sha256(b"wechathhu bench users").hexdigest()[:16]
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾单解覃萧田董潘袁蔡蒋余于杜叶程"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然轩涵诺怡晨阳远嘉思雨博文")


def build_users(scale: dict, rng: random.Random) -> None:
    total = scale["users"]
    existing = User.objects.filter(username__startswith="U")
    if existing.count() >= total:
        sample = existing.order_by("pk").first()
        if not sample.check_password(PASSWORD):  # built by an older bench with another password
            existing.update(password=make_password(PASSWORD))
        return
    departments = [Department.objects.get_or_create(name=f"院系{i:02d}")[0] for i in range(20)]
    classes = [
        SchoolClass.objects.get_or_create(
            name=f"班级{i:04d}", defaults={"grade": 2021 + i % 4, "department": departments[i % 20]}
        )[0]
        for i in range(max(1, total // 45))
    ]
    password = make_password(PASSWORD)
    progress = Progress("users", total)
    now = timezone.now()
    for start in range(0, total, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, total)):
            last, first = rng.choice(SURNAMES), rng.choice(GIVEN) + rng.choice(GIVEN)
            keys = name_keys(last, first)
            kind = UserKind.TEACHER if n % 10 == 0 else UserKind.STUDENT
            rows.append(
                User(
                    username=f"U{n:06d}",
                    password=password,
                    last_name=last,
                    first_name=first,
                    kind=kind,
                    department=departments[n % 20],
                    school_class=None if kind == UserKind.TEACHER else classes[n % len(classes)],
                    email=f"u{n:06d}@example.edu.cn",
                    phone=f"139{n:08d}",
                    post="讲师" if kind == UserKind.TEACHER else "",
                    name_pinyin=keys.pinyin,
                    name_initials=keys.initials,
                    alpha=keys.alpha,
                    date_joined=now,
                )
            )
        User.objects.bulk_create(rows, ignore_conflicts=True)
        progress.advance(len(rows))
    progress.close()


def build_directory_index(scale: dict, rng: random.Random) -> None:
    """The directory search's index (``accounts.search``), as saving each user would have written
    it (the users above are inserted in bulk); skipped once the last user has its terms."""
    from accounts import search
    from accounts.models import DirectoryTerm

    last = User.objects.order_by("-pk").values_list("pk", flat=True).first()
    if last is None or DirectoryTerm.objects.filter(user_id=last).exists():
        return
    progress = Progress("directory search index", User.objects.count())
    done = [0]

    def advance(n: int) -> None:
        progress.advance(n - done[0])
        done[0] = n

    search.rebuild(batch=2000, progress=advance)
    progress.close()


def tokens(count: int) -> list[tuple[int, str]]:
    """(user id, key) for the first ``count`` bench users, creating their tokens once."""
    users = list(
        User.objects.filter(username__startswith="U")
        .order_by("username")
        .values_list("pk", flat=True)[:count]
    )
    existing = dict(AuthToken.objects.filter(user_id__in=users, device="bench").values_list("user_id", "key"))
    missing = [
        AuthToken(user_id=pk, device="bench", last_used_at=timezone.now())
        for pk in users
        if pk not in existing
    ]
    AuthToken.objects.bulk_create(missing, batch_size=BATCH)
    AuthToken.objects.filter(user_id__in=users, device="bench").update(last_used_at=timezone.now())
    return list(AuthToken.objects.filter(user_id__in=users, device="bench").values_list("user_id", "key"))


def counts() -> dict:
    """The rows of the data set as the run found them (for the report)."""
    from activities.models import Activity, ClockinRecord, Enrollment
    from conversations.models import Conversation, ConversationMessage
    from guides.models import Guide
    from messaging.models import Message, MessageRecipient
    from repairs.models import RepairRequest
    from reservations.models import Meetingroom, Reservation

    models = {
        "users": User,
        "messages": Message,
        "message_recipients": MessageRecipient,
        "rooms": Meetingroom,
        "bookings": Reservation,
        "activities": Activity,
        "enrollments": Enrollment,
        "clockin_records": ClockinRecord,
        "repair_requests": RepairRequest,
        "guides": Guide,
        "conversations": Conversation,
        "conversation_messages": ConversationMessage,
    }
    return {name: model.objects.count() for name, model in models.items()}


def machine() -> dict:
    """What the figures depend on besides the code: the database server and the CPU."""
    facts = {"database": connection.vendor}
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
            version, pool = cursor.fetchone()
            cursor.execute(
                "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = DATABASE()"
            )
            (size,) = cursor.fetchone()
        # A buffer pool smaller than the data (indexes above all) turns writes into random reads.
        facts.update(
            database_version=version,
            innodb_buffer_pool_mb=int(pool) // 2**20,
            data_mb=int(size or 0) // 2**20,
        )
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            facts["cpu"] = next(
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return facts


# --- Shared helpers -----------------------------------------------------------------------------

STAFF_USERNAME = "bench-staff"


def bench_users() -> list[tuple[int, int | None, int | None, str]]:
    """(id, department id, class id, kind) of the bench users, by id."""
    return list(
        User.objects.filter(username__startswith="U")
        .order_by("pk")
        .values_list("pk", "department_id", "school_class_id", "kind")
    )


def bench_staff() -> User:
    staff = User.objects.filter(username=STAFF_USERNAME).first()
    if staff is None:
        staff = User.objects.create_superuser(
            username=STAFF_USERNAME, password=PASSWORD, last_name="压测", first_name="管理员"
        )
    return staff


@contextmanager
def keep_created_at(*models):
    """Let ``bulk_create`` keep the ``created_at`` the builder gives (a history, not one instant)."""
    fields = [f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now_add", False)]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def _sql_time(value: datetime) -> str:
    """A literal for an aware datetime as Django stores it with USE_TZ (UTC, naive)."""
    return "'" + value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "'"


def _insert_raw(table: str, columns: str, rows: list[str]) -> None:
    """One multi-row INSERT of pre-formatted ``(…)`` tuples (ints and generated literals only)."""
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {','.join(rows)}")  # noqa: S608


def _local_midnight(day_offset: int, now: datetime) -> datetime:
    today = timezone.localdate(now)
    return datetime.combine(today + timedelta(days=day_offset), time.min, timezone.get_current_timezone())


# --- Messaging: 5 000 000 recipient rows --------------------------------------------------------

MESSAGES_DONE = "[bench] 消息数据已建成"
TITLES = {
    "notification": ["关于{}的通知", "{}安排通知", "{}报名通知"],
    "announcement": ["{}公告", "关于{}的公示"],
    "reminder": ["{}提醒", "请及时完成{}"],
    "approval": ["{}审批结果", "{}申请已通过"],
}
TOPICS = [
    "期末考试",
    "教学检查",
    "科研项目申报",
    "实验室安全",
    "奖学金评定",
    "学术讲座",
    "体检",
    "校园网维护",
    "图书馆开放时间",
    "毕业设计",
    "党支部活动",
    "运动会",
]
# Messages per audience (the row counts follow the audience sizes, so they scale with users):
GLOBAL_MESSAGES = 200  # each user has read ~20 of them (fan-out on read): the rest of the rows
DEPARTMENT_MESSAGES = 40  # per department (20 departments of ~2 500 users: ~2 000 000 rows)
CLASS_MESSAGES = 18  # per class (~45 students each: ~810 000 rows)
TEACHER_MESSAGES = 120  # to every teacher (~5 000: ~600 000 rows)
DIRECT_PER_USER = 1  # messages to 1–19 named users, as many as there are users (~500 000 rows)


def _message_tables_clear() -> None:
    from messaging.models import Message, MessageDelivery, MessageRecipient, MessageSearchTerm

    models = [
        MessageSearchTerm,
        MessageDelivery,
        MessageRecipient,
        Message.audience_departments.through,
        Message.audience_classes.through,
        Message.audience_groups.through,
        Message,
    ]
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS=0")
            for model in models:
                cursor.execute(f"TRUNCATE TABLE {model._meta.db_table}")
            cursor.execute("SET FOREIGN_KEY_CHECKS=1")
    else:
        for model in models:
            model.objects.all().delete()


def build_messages(scale: dict, rng: random.Random) -> None:
    """Global and targeted messages over the last year, with read and archive states."""
    from messaging.models import Message, MessagePriority, MessageRecipient, MessageType

    if Message.objects.filter(title=MESSAGES_DONE).exists():
        return
    _message_tables_clear()
    users = bench_users()
    staff = bench_staff()
    now = timezone.now()
    n_users = len(users)
    departments = sorted({d for _, d, _, _ in users if d})
    classes = sorted({c for _, _, c, _ in users if c})
    types = list(MessageType.values)
    priorities = [
        MessagePriority.LOW,
        *[MessagePriority.NORMAL] * 6,
        MessagePriority.HIGH,
        MessagePriority.URGENT,
    ]

    next_id = _next_id(Message)
    messages: list[Message] = []
    facts: dict[int, tuple[float, list[str], str]] = {}  # id → (read probability, read times, sent)

    def add(*, is_global: bool, audience: int, **extra) -> int:
        nonlocal next_id
        mid, next_id = next_id, next_id + 1
        kind = rng.choice(types)
        published = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        expires = active = None
        roll = rng.random()
        if roll < 0.02:  # scheduled for later: not visible yet
            published = now + timedelta(hours=rng.uniform(1, 7 * 24))
        elif roll < 0.04:
            active = False  # withdrawn
        elif roll < 0.14:
            expires = published + timedelta(days=rng.choice([1, 7, 30, 90]))
        age_days = (now - published).total_seconds() / 86400
        p_read = 0.0 if age_days < 0 else 0.3 if age_days < 7 else 0.6 if age_days < 30 else 0.85
        reads = [_sql_time(published + timedelta(minutes=rng.uniform(1, 4320))) for _ in range(4)]
        facts[mid] = (p_read, reads, _sql_time(published))
        messages.append(
            Message(
                id=mid,
                title=rng.choice(TITLES[kind]).format(rng.choice(TOPICS)),
                content="请相关人员注意查看，详情见附件或咨询学院办公室。" * rng.randint(1, 4),
                type=kind,
                priority=rng.choice(priorities),
                sender=None if is_global and rng.random() < 0.5 else staff,
                is_global=is_global,
                is_active=active is None,
                published_at=published,
                expires_at=expires,
                audience_size=audience,
                publish_processed_at=None if published > now else published,
                created_at=min(published, now),
                **extra,
            )
        )
        return mid

    global_ids = [add(is_global=True, audience=n_users) for _ in range(GLOBAL_MESSAGES)]
    dept_size = defaultdict(int)
    class_size = defaultdict(int)
    for _, d, c, _ in users:
        dept_size[d] += 1
        class_size[c] += 1
    by_department = {
        d: [add(is_global=False, audience=dept_size[d]) for _ in range(DEPARTMENT_MESSAGES)]
        for d in departments
    }
    by_class = {
        c: [add(is_global=False, audience=class_size[c]) for _ in range(CLASS_MESSAGES)] for c in classes
    }
    teachers = sum(1 for *_, kind in users if kind == UserKind.TEACHER)
    to_teachers = [
        add(is_global=False, audience=teachers, audience_kinds=[UserKind.TEACHER])
        for _ in range(TEACHER_MESSAGES)
    ]
    direct: dict[int, list[int]] = defaultdict(list)
    for _ in range(n_users * DIRECT_PER_USER):
        chosen = rng.sample(range(n_users), min(n_users, rng.randint(1, 19)))
        mid = add(is_global=False, audience=len(chosen), audience_user_ids=[users[i][0] for i in chosen])
        for i in chosen:
            direct[users[i][0]].append(mid)

    progress = Progress("messages", len(messages))
    for start in range(0, len(messages), BATCH):
        with keep_created_at(Message):
            Message.objects.bulk_create(messages[start : start + BATCH])
        progress.advance(len(messages[start : start + BATCH]))
    progress.close()
    through_d = Message.audience_departments.through
    through_d.objects.bulk_create(
        [through_d(message_id=m, department_id=d) for d, ids in by_department.items() for m in ids],
        batch_size=BATCH,
    )
    through_c = Message.audience_classes.through
    through_c.objects.bulk_create(
        [through_c(message_id=m, schoolclass_id=c) for c, ids in by_class.items() for m in ids],
        batch_size=BATCH,
    )

    targeted_rows = sum(
        len(by_department.get(d, ()))
        + len(by_class.get(c, ()))
        + (TEACHER_MESSAGES if k == UserKind.TEACHER else 0)
        for _, d, c, k in users
    ) + sum(len(v) for v in direct.values())
    # The global messages' read rows make up the rest of the scale's row count, exactly: each user
    # has read ``base ± spread`` of the published ones (pairs of users balance their spreads).
    readable = [mid for mid in global_ids if facts[mid][0] > 0]
    remaining = max(0, scale["message_recipients"] - targeted_rows)
    base, extra = divmod(remaining, n_users)
    global_reads = []
    for i in range(0, n_users, 2):
        spread = rng.randint(0, base) if i + 1 < n_users else 0
        global_reads += [base + spread, base - spread][: n_users - i]
    global_reads = [min(len(readable), n + (i < extra)) for i, n in enumerate(global_reads)]
    expected = targeted_rows + sum(global_reads)
    progress = Progress("message recipients", expected)
    table = MessageRecipient._meta.db_table
    columns = "message_id, recipient_id, read_at, archived_at, created_at, updated_at"
    fast = connection.vendor == "mysql"
    if fast:  # the rows are unique and their keys exist by construction
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION unique_checks=0, foreign_key_checks=0")
    rows: list[str] = []
    for (uid, d, c, k), reads_of_globals in zip(users, global_reads, strict=True):
        targeted = by_department.get(d, []) + by_class.get(c, []) + direct.get(uid, [])
        if k == UserKind.TEACHER:
            targeted = targeted + to_teachers
        states = []
        for mid in targeted:
            p_read, reads, sent = facts[mid]
            if rng.random() < p_read:
                read = rng.choice(reads)
                archived = read if rng.random() < 0.12 else "NULL"
                states.append((mid, read, archived, sent))
            else:
                states.append((mid, "NULL", "NULL", sent))
        for mid in rng.sample(readable, reads_of_globals):  # globals: a row once read
            read = rng.choice(facts[mid][1])
            states.append((mid, read, read if rng.random() < 0.12 else "NULL", read))
        states.sort()
        rows.extend(f"({mid},{uid},{read},{archived},{sent},{sent})" for mid, read, archived, sent in states)
        if len(rows) >= RAW_BATCH:
            _insert_raw(table, columns, rows)
            progress.advance(len(rows))
            rows = []
    _insert_raw(table, columns, rows)
    progress.advance(len(rows))
    if fast:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION unique_checks=1, foreign_key_checks=1")
    progress.close()
    Message.objects.create(title=MESSAGES_DONE, is_active=False, sender=staff)


def build_search_index(scale: dict, rng: random.Random) -> None:
    """The messages' full-text index (``messaging.search``), as the services would have written it
    (the messages above are inserted in bulk); skipped once every message has its terms."""
    from messaging import search
    from messaging.models import Message, MessageSearchTerm

    last = Message.objects.exclude(title=MESSAGES_DONE).order_by("-pk").values_list("pk", flat=True).first()
    if last is None or MessageSearchTerm.objects.filter(message_id=last).exists():
        return
    total = Message.objects.count()
    progress = Progress("message search index", total)
    done = [0]

    def advance(n: int) -> None:
        progress.advance(n - done[0])
        done[0] = n

    search.rebuild(batch=2000, progress=advance)
    progress.close()


# --- Reservations: 500 rooms, 200 000 bookings ----------------------------------------------------

BUILDINGS = ["勤学楼", "致远楼", "博学楼", "笃行楼", "明德楼"]
ROOM_KINDS = [
    ("研讨室", 4, 12, "白板、电视"),
    ("会议室", 12, 40, "投影仪、视频会议终端"),
    ("报告厅", 60, 300, "投影仪、音响"),
]


def build_rooms(scale: dict, rng: random.Random) -> None:
    from reservations.models import Meetingroom

    total = scale["rooms"]
    have = Meetingroom.objects.filter(name__startswith="B-").count()
    if have >= total:
        return
    progress = Progress("meeting rooms", total)
    rooms = []
    for n in range(total):
        building = BUILDINGS[n % len(BUILDINGS)]
        floor = 1 + (n // len(BUILDINGS)) % 10
        label, low, high, equipment = rng.choices(ROOM_KINDS, weights=[6, 3, 1])[0]
        hours = rng.random() < 0.3
        rooms.append(
            Meetingroom(
                name=f"B-{building}{floor}{n:03d}",
                location=f"{building} {floor} 楼",
                label=label,
                seats_count=rng.randint(low, high),
                equipment=equipment,
                bookable_from=time(8) if hours else None,
                bookable_to=time(22) if hours else None,
            )
        )
    Meetingroom.objects.bulk_create(rooms, ignore_conflicts=True)
    progress.advance(total)
    progress.close()


def build_bookings(scale: dict, rng: random.Random) -> None:
    """Per room, 0–5 bookings a day between 08:00 and 22:00 from 100 days ago to 50 days ahead
    (in random day order until the room has its share), and now and then a whole-day booking
    (24 h, the longest staff may make: ``RESERVATION_HARD_MAX_MINUTES``)."""
    from django.conf import settings

    from reservations.models import Meetingroom, Reservation

    total = scale["bookings"]
    if Reservation.objects.count() >= total:
        return
    rooms = list(Meetingroom.objects.filter(name__startswith="B-").values_list("pk", "bookable_from"))
    users = [pk for pk, *_ in bench_users()]
    per_room = max(1, total // max(len(rooms), 1))
    now = timezone.now()
    whole_day = timedelta(minutes=min(24 * 60, settings.RESERVATION_HARD_MAX_MINUTES))
    cell = timedelta(minutes=30)
    progress = Progress("bookings", per_room * len(rooms))
    batch: list[Reservation] = []
    for room_id, bookable_from in rooms:
        days = list(range(-100, 51))
        rng.shuffle(days)
        made = 0
        for day in days:
            if made >= per_room:
                break
            midnight = _local_midnight(day, now)
            if bookable_from is None and rng.random() < 0.01:
                spans = [(midnight, midnight + whole_day)]
            else:
                k = rng.choice([1, 2, 2, 3, 3, 4, 4, 5])
                starts = sorted(rng.sample(range(16, 44), k))  # half-hour cells 08:00–22:00
                spans = []
                for i, first in enumerate(starts):
                    limit = starts[i + 1] if i + 1 < len(starts) else 44
                    last = min(first + rng.choice([2, 2, 2, 3, 4, 4, 6]), limit)
                    spans.append((midnight + first * cell, midnight + last * cell))
            for begin, end in spans[: per_room - made]:
                batch.append(
                    Reservation(
                        user_id=rng.choice(users),
                        meetingroom_id=room_id,
                        reserve_from=begin,
                        reserve_to=end,
                        description=rng.choice(
                            ["组会", "课题讨论", "答辩", "面试", "学术报告", "党支部会议"]
                        ),
                        reminded_at=begin - timedelta(minutes=30) if begin < now else None,
                    )
                )
                made += 1
            if len(batch) >= BATCH:
                Reservation.objects.bulk_create(batch)
                progress.advance(len(batch))
                batch = []
    Reservation.objects.bulk_create(batch)
    progress.advance(len(batch))
    progress.close()


# --- Activities: 1 000 activities, enrollments, clock-in items and records ------------------------

BURST_ACTIVITY = "[压测] 千人打卡"
BURST_ENROLLED = 5000  # the issue-6 filter target: an activity of 5 000 enrollments
ACTIVITY_TOPICS = [
    "学术讲座",
    "志愿服务",
    "社团招新",
    "读书会",
    "篮球赛",
    "编程竞赛",
    "职业规划讲座",
    "党课",
    "实验室开放日",
]


def build_activities(scale: dict, rng: random.Random) -> None:
    from activities.models import Activity, ClockinItem, ClockinKind, ClockinRecord, Enrollment

    total = scale["activities"]
    if Activity.objects.filter(name=BURST_ACTIVITY).exists():
        return
    users = [pk for pk, *_ in bench_users()]
    departments = list(Department.objects.filter(name__startswith="院系").values_list("pk", flat=True))
    now = timezone.now()
    activity_id, item_id, enrollment_id = _next_id(Activity), _next_id(ClockinItem), _next_id(Enrollment)
    activities, items, enrollments, records, audiences = [], [], [], [], []
    progress = Progress("activities", total + 1)

    def flush(force=False):
        nonlocal enrollments, records
        if force or len(enrollments) + len(records) >= 4 * BATCH:
            with keep_created_at(Activity, ClockinRecord):
                Activity.objects.bulk_create(activities)
                ClockinItem.objects.bulk_create(items)
                Enrollment.objects.bulk_create(enrollments, batch_size=BATCH)
                ClockinRecord.objects.bulk_create(records, batch_size=BATCH)
            progress.advance(len(activities))
            for rows in (activities, items, enrollments, records):
                rows.clear()

    for n in range(total + 1):
        burst = n == total
        start = now + timedelta(hours=1) if burst else now + timedelta(hours=rng.uniform(-90 * 24, 60 * 24))
        end = start + timedelta(hours=rng.choice([1, 2, 2, 3]))
        limit = None if burst or rng.random() < 0.5 else rng.randint(50, 300)
        activity = Activity(
            id=activity_id,
            name=BURST_ACTIVITY if burst else f"{rng.choice(ACTIVITY_TOPICS)}（第{n + 1}期）",
            description="欢迎全院师生参加。",
            location=f"{rng.choice(BUILDINGS)} {rng.randint(1, 5)} 楼报告厅",
            time_start=start,
            time_end=end,
            open_for_enrollment=burst or rng.random() < (0.85 if start > now else 0.4),
            participants_total_limit=limit,
            audience_everyone=burst or rng.random() < 0.8,
            created_at=min(now, start - timedelta(days=14)),
        )
        activities.append(activity)
        if not activity.audience_everyone and departments:
            audiences.append((activity_id, rng.choice(departments)))
        check_in = ClockinItem(
            id=item_id,
            activity_id=activity_id,
            label="签到",
            kind=ClockinKind.CHECK_IN,
            from_time=start - timedelta(minutes=30),
            to_time=start + timedelta(minutes=30),
        )
        check_out = ClockinItem(
            id=item_id + 1,
            activity_id=activity_id,
            label="签退",
            kind=ClockinKind.CHECK_OUT,
            from_time=end - timedelta(minutes=15),
            to_time=end + timedelta(minutes=30),
        )
        items += [check_in, check_out]
        item_id += 2
        count = min(len(users), BURST_ENROLLED) if burst else min(len(users), rng.randint(20, limit or 180))
        people = users[:count] if burst else rng.sample(users, count)
        for user_id in people:
            enrollments.append(Enrollment(id=enrollment_id, activity_id=activity_id, user_id=user_id))
            if end < now:  # past activities: most clocked in, fewer clocked out
                for item, share in ((check_in, 0.85), (check_out, 0.7)):
                    if rng.random() < share:
                        records.append(
                            ClockinRecord(
                                item_id=item.id,
                                enrollment_id=enrollment_id,
                                user_id=user_id,
                                created_at=item.from_time + timedelta(minutes=rng.uniform(0, 40)),
                            )
                        )
            enrollment_id += 1
        activity_id += 1
        flush()
    flush(force=True)
    through = Activity.audience_departments.through
    through.objects.bulk_create(
        [through(activity_id=a, department_id=d) for a, d in audiences], batch_size=BATCH
    )
    progress.close()


# --- Repairs and guides -------------------------------------------------------------------------

REPAIR_CATEGORIES = [
    "网络故障",
    "电脑故障",
    "打印机",
    "投影设备",
    "门禁",
    "空调",
    "水电",
    "家具",
    "会议室设备",
    "其他",
]
REPAIR_REQUESTS = 20_000


def build_repairs(scale: dict, rng: random.Random) -> None:
    from repairs.models import FaultCategory, NotificationRecipient, RepairRequest, RepairStatus

    if FaultCategory.objects.filter(name=REPAIR_CATEGORIES[-1]).exists():
        return
    categories = []
    for position, name in enumerate(REPAIR_CATEGORIES):
        category = FaultCategory.objects.create(
            name=name, position=position, response_hours=rng.choice([24, 48, 72])
        )
        categories.append(category)
        NotificationRecipient.objects.create(
            name=f"{name}维修组", email=f"repair{position}@example.edu.cn", category=category
        )
    NotificationRecipient.objects.create(name="后勤总值班", email="duty@example.edu.cn")
    users = [pk for pk, *_ in bench_users()]
    total = max(1, int(REPAIR_REQUESTS * scale["users"] / 50_000))
    now = timezone.now()
    progress = Progress("repair requests", total)
    batch = []
    for _ in range(total):
        category = rng.choice(categories)
        created = now - timedelta(hours=rng.uniform(0, 365 * 24))
        status = rng.choices(list(RepairStatus), weights=[1, 1, 2, 6])[0]
        solved = created + timedelta(hours=rng.uniform(1, 72)) if status in ("solved", "closed") else None
        batch.append(
            RepairRequest(
                user_id=rng.choice(users),
                location=f"{rng.choice(BUILDINGS)}{rng.randint(1, 10)}{rng.randint(1, 30):02d}",
                category=category,
                description=f"{category.name}：设备无法正常使用，请尽快处理。",
                status=status,
                due_at=created + timedelta(hours=category.response_hours),
                solved_at=solved,
                closed_at=solved + timedelta(days=1) if status == "closed" else None,
                created_at=created,
            )
        )
        if len(batch) >= BATCH:
            with keep_created_at(RepairRequest):
                RepairRequest.objects.bulk_create(batch)
            progress.advance(len(batch))
            batch = []
    with keep_created_at(RepairRequest):
        RepairRequest.objects.bulk_create(batch)
    progress.advance(len(batch))
    progress.close()


GUIDE_CATEGORIES = ["教学", "科研", "人事", "财务", "资产", "学生工作", "网络与信息", "后勤"]
GUIDES = 120


def build_guides(scale: dict, rng: random.Random) -> None:
    import hashlib

    from guides.models import Guide, GuideCategory, guide_upload_to

    if Guide.objects.filter(name__startswith="[压测]").count() >= GUIDES:
        return
    categories = [GuideCategory.objects.get_or_create(name=name)[0] for name in GUIDE_CATEGORIES]
    progress = Progress("guides", GUIDES)
    guides = []
    for n in range(GUIDES):
        body = f"%PDF-1.4\n% bench guide {n}\n".encode() + rng.randbytes(2048)
        path = default_storage.save(guide_upload_to(None, f"guide{n}.pdf"), ContentFile(body))
        guides.append(
            Guide(
                name=f"[压测] 办事指南{n + 1:03d}",
                description="办理流程、所需材料与联系方式。",
                category=rng.choice(categories),
                file=path,
                file_name=f"办事指南{n + 1:03d}.pdf",
                file_size=len(body),
                content_type="application/pdf",
                file_sha256=hashlib.sha256(body).hexdigest(),
                is_published=rng.random() < 0.9,
            )
        )
    Guide.objects.bulk_create(guides)
    progress.advance(len(guides))
    progress.close()


# --- Conversations (issue 14): 200 000 messages, one user with 500 conversations ---------------

CONVERSATIONS_DONE = "[bench] 会话数据已建成"
CHAT_USER = "U000000"  # the bench user with CHAT_USER_CONVERSATIONS conversations
CHAT_USER_CONVERSATIONS = 500
CHAT_USER_GROUPS = 50  # of those, groups (the rest direct)
MESSAGES_PER_CONVERSATION = 10  # on average: conversations = conversation messages / 10
CHAT_LINES = [
    "老师您好，请问明天的课在哪个教室？",
    "收到，谢谢！",
    "作业已经提交到系统了，请查收。",
    "好的，我下午三点到办公室。",
    "会议改到周四上午九点，地点不变。",
    "实验报告的模板发群里了。",
    "请大家今晚十点前确认是否参加。",
    "没问题 👍",
    "下周的讲座需要提前报名吗？",
    "辛苦了！",
]


def _conversation_tables_clear() -> None:
    from conversations.models import Conversation, ConversationMember, ConversationMessage, MessageReport

    models = [MessageReport, ConversationMember, ConversationMessage, Conversation]
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS=0")
            for model in models:
                cursor.execute(f"TRUNCATE TABLE {model._meta.db_table}")
            cursor.execute("SET FOREIGN_KEY_CHECKS=1")
    else:
        Conversation.objects.update(last_message=None)
        for model in models:
            model.objects.all().delete()


def build_conversations(scale: dict, rng: random.Random) -> None:
    """Direct and group conversations with ``scale["conversation_messages"]`` text messages over the
    last 90 days (every conversation has at least one), members' read pointers and unread
    counters as the services keep them (a member's unread count is the others' messages after
    their pointer), and ``CHAT_USER`` in ``CHAT_USER_CONVERSATIONS`` of them. The first 2 000 bench
    users (the ones with tokens) are paired off, so each has a conversation to write in; the rest
    are random pairs of users, and one in fifty a group of 3–40."""
    from conversations.models import (
        Conversation,
        ConversationKind,
        ConversationMember,
        ConversationMessage,
        MemberRole,
    )
    from wechathhu.core.bulk import db_datetime, insert_ignore

    if Conversation.objects.filter(name=CONVERSATIONS_DONE).exists():
        return
    _conversation_tables_clear()
    users = [pk for pk, *_ in bench_users()]
    chat_user = User.objects.get(username=CHAT_USER).pk
    total_messages = scale.get("conversation_messages", 4 * len(users))
    target = max(CHAT_USER_CONVERSATIONS + 1, total_messages // MESSAGES_PER_CONVERSATION)

    # Who is in each conversation: (members, group name or "").
    chats: list[tuple[list[int], str]] = []
    pairs: set[tuple[int, int]] = set()

    def add_direct(a: int, b: int) -> bool:
        pair = (min(a, b), max(a, b))
        if a == b or pair in pairs:
            return False
        pairs.add(pair)
        chats.append(([a, b], ""))
        return True

    def add_group(owner: int, size: int) -> None:
        others = [u for u in rng.sample(users, min(len(users), size + 1)) if u != owner][:size]
        chats.append(([owner, *others], f"[压测] 群聊{len(chats) + 1}"))

    others = [u for u in users if u != chat_user]
    directs = min(CHAT_USER_CONVERSATIONS - CHAT_USER_GROUPS, len(others))
    for partner in rng.sample(others, directs):
        add_direct(chat_user, partner)
    for _ in range(CHAT_USER_CONVERSATIONS - directs):
        add_group(chat_user, rng.randint(3, 40))
        people = chats[-1][0]
        if rng.random() < 0.5 and len(people) > 1:  # the owner (listed first) is someone else
            people[0], people[-1] = people[-1], people[0]
    with_tokens = users[:2000]
    for i in range(0, len(with_tokens) - 1, 2):
        add_direct(with_tokens[i], with_tokens[i + 1])
    attempts = 0
    while len(chats) < target and attempts < target * 3 and len(users) > 2:
        attempts += 1
        if rng.random() < 0.02:
            add_group(rng.choice(users), rng.randint(3, 40))
        else:
            add_direct(*rng.sample(users, 2))

    # Messages per conversation: one each, the rest at random (some conversations much busier).
    counts = [1] * len(chats)
    weights = [rng.uniform(0.1, 3.0) for _ in chats]
    for index in rng.choices(range(len(chats)), weights=weights, k=max(0, total_messages - len(chats))):
        counts[index] += 1

    now = timezone.now()
    conversation_id, message_id = _next_id(Conversation), _next_id(ConversationMessage)
    progress = Progress("conversation messages", sum(counts))
    conversations, members, messages = [], [], []

    def flush(force: bool = False) -> None:
        nonlocal conversations, members, messages
        if not force and len(messages) < 4 * BATCH:
            return
        insert_ignore(
            Conversation,
            [
                "id",
                "created_at",
                "updated_at",
                "kind",
                "name",
                "pair_key",
                "created_by",
                "last_seq",
                "last_message_at",
                "member_count",
            ],
            conversations,
        )
        insert_ignore(
            ConversationMessage,
            [
                "id",
                "conversation",
                "seq",
                "sender",
                "message_type",
                "text",
                "file",
                "file_name",
                "file_size",
                "content_type",
                "created_at",
            ],
            messages,
            batch_size=BATCH,
        )
        insert_ignore(
            ConversationMember,
            [
                "conversation",
                "user",
                "role",
                "joined_at",
                "last_read_seq",
                "unread_count",
                "last_activity_at",
                "push_pending",
            ],
            members,
            batch_size=BATCH,
        )
        progress.advance(len(messages))
        conversations, members, messages = [], [], []

    for (people, name), n in zip(chats, counts, strict=True):
        started = now - timedelta(seconds=rng.uniform(3600, 90 * 86400))
        step = (now - started).total_seconds() / (n + 1)
        senders, times = [], []
        for seq in range(1, n + 1):
            sender = rng.choice(people)
            sent = started + timedelta(seconds=step * seq * rng.uniform(0.9, 1.0))
            senders.append(sender)
            times.append(sent)
            messages.append(
                (
                    message_id,
                    conversation_id,
                    seq,
                    sender,
                    "text",
                    rng.choice(CHAT_LINES),
                    "",
                    "",
                    0,
                    "",
                    db_datetime(sent),
                )
            )
            message_id += 1
        group = bool(name)
        conversations.append(
            (
                conversation_id,
                db_datetime(started),
                db_datetime(times[-1]),
                ConversationKind.GROUP if group else ConversationKind.DIRECT,
                name,
                None if group else Conversation.pair_key_for(*people),
                people[0],
                n,
                db_datetime(times[-1]),
                len(people),
            )
        )
        for position, person in enumerate(people):
            # Most have read everything; some stopped somewhere (the badge counts the others' messages after it).
            read = n if rng.random() < 0.7 else rng.randint(0, n)
            unread = sum(1 for s in senders[read:] if s != person)
            role = MemberRole.OWNER if group and position == 0 else MemberRole.MEMBER
            members.append(
                (
                    conversation_id,
                    person,
                    role,
                    db_datetime(started),
                    read,
                    unread,
                    db_datetime(times[-1]),
                    False,
                )
            )
        conversation_id += 1
        flush()
    flush(force=True)
    from django.db.models import OuterRef, Subquery

    Conversation.objects.filter(last_message__isnull=True, last_seq__gt=0).update(
        last_message=Subquery(
            ConversationMessage.objects.filter(conversation=OuterRef("pk"), seq=OuterRef("last_seq")).values(
                "pk"
            )[:1]
        )
    )
    progress.close()
    Conversation.objects.create(kind=ConversationKind.GROUP, name=CONVERSATIONS_DONE)


from .discussion import build_discussion  # noqa: E402 - it uses the helpers above

BUILDERS = [
    build_users,
    build_directory_index,
    build_messages,
    build_search_index,
    build_discussion,
    build_rooms,
    build_bookings,
    build_activities,
    build_repairs,
    build_guides,
    build_conversations,
]
