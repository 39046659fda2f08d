"""Demo data for accounts: departments, teachers, students and a demo admin; classes with
counsellors and head teachers, groups with titled members, friendships, and varied privacy
choices on the directory cards."""

import random

from django.contrib.auth.hashers import make_password

from .models import (
    CampusGroup,
    Department,
    Friendship,
    GroupMembership,
    SchoolClass,
    User,
    UserKind,
    Visibility,
)
from .services.users import user_create

DEMO_PASSWORD = "demo1234"  # noqa: S105 - the published demo password, printed by `make run`
ADMIN_USERNAME = "admin"
DEMO_TEACHER = "T1001"
DEMO_STUDENT = "S2024001"

DEPARTMENTS = ["计算机科学与技术系", "软件工程系", "网络工程系", "信息安全系", "人工智能系", "学院办公室"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾单解覃")
GIVEN_NAMES = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然轩涵诺怡晨阳远嘉")
POSTS = ["教授", "副教授", "讲师", "助理研究员", "实验师", "系主任", "教学秘书"]
MAJORS = ["计算机科学与技术", "软件工程", "网络工程", "信息安全", "人工智能"]
CLASS_PREFIXES = ["计科", "软工", "网工", "信安", "智能"]
CLASS_CADRES = ["班长", "团支书", "学习委员"]
PRIVACY_CHOICES = [
    {},  # the defaults
    {"phone_visibility": Visibility.NOBODY},
    {"phone_visibility": Visibility.EVERYONE, "wechat_visibility": Visibility.EVERYONE},
    {"qq_visibility": Visibility.NOBODY, "wechat_visibility": Visibility.NOBODY},
    {"email_visibility": Visibility.COLLEAGUES, "tel_visibility": Visibility.COLLEAGUES},
]


def _name(rng: random.Random) -> tuple[str, str]:
    given = rng.choice(GIVEN_NAMES) + (rng.choice(GIVEN_NAMES) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES), given


def _ensure_user(username: str, *, password_hash: str, **fields) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, **fields)
        # One hash for every demo account: hashing 130 passwords one by one takes a minute.
        user.password = password_hash
        user.save(update_fields=["password"])
    return user


def seed(out) -> list[str]:
    rng = random.Random(20261123)
    password_hash = make_password(DEMO_PASSWORD)
    privacy_rng = random.Random(3)
    departments = [Department.objects.get_or_create(name=name)[0] for name in DEPARTMENTS]
    _ensure_user(
        ADMIN_USERNAME,
        password_hash=password_hash,
        last_name="管",
        first_name="理员",
        kind=UserKind.STAFF,
        department=departments[-1],
        is_staff=True,
        is_superuser=True,
        email="admin@example.edu.cn",
    )
    for i in range(30):
        last, first = ("张", "三") if i == 0 else _name(rng)
        _ensure_user(
            f"T{1001 + i}",
            password_hash=password_hash,
            last_name=last,
            first_name=first,
            kind=UserKind.TEACHER,
            department=departments[i % 5],
            email=f"t{1001 + i}@example.edu.cn",
            post=rng.choice(POSTS),
            phone=f"139{rng.randrange(10**8):08d}",
            tel=f"025-8378{rng.randrange(10**4):04d}",
            qq=str(rng.randrange(10**8, 10**10)),
            wechat=f"wx_t{1001 + i}",
            **(PRIVACY_CHOICES[privacy_rng.randrange(len(PRIVACY_CHOICES))] if i else {}),
        )
    for i in range(100):
        last, first = ("李", "四") if i == 0 else _name(rng)
        _ensure_user(
            f"S{2024001 + i}",
            password_hash=password_hash,
            last_name=last,
            first_name=first,
            kind=UserKind.STUDENT,
            department=departments[i % 5],
            email=f"s{2024001 + i}@example.edu.cn",
            phone=f"138{rng.randrange(10**8):08d}",
        )
    classes = _seed_classes(departments)
    groups = _seed_groups(classes)
    friendships = _seed_friendships()
    return [
        f"通讯录与分组：{len(classes)} 个班级（含辅导员和班主任）、{groups} 个分组、{friendships} 条好友关系。",
        f"演示账号（密码均为 {DEMO_PASSWORD}）：",
        f"  管理员   {ADMIN_USERNAME}    （后台 /admin/）",
        f"  教师     {DEMO_TEACHER}     （张三）",
        f"  学生     {DEMO_STUDENT}  （李四）",
    ]


def _seed_classes(departments: list[Department]) -> list[SchoolClass]:
    """Two 2024 classes per department, each with a head teacher and a counsellor from that
    department; every demo student joins a class of their department (once)."""
    teachers = {
        d.pk: list(User.objects.filter(kind=UserKind.TEACHER, department=d).order_by("username"))
        for d in departments
    }
    classes = []
    for d_index, department in enumerate(departments[:5]):
        for n in (1, 2):
            school_class, created = SchoolClass.objects.get_or_create(
                name=f"{CLASS_PREFIXES[d_index]}2024-{n}班",
                defaults={"grade": 2024, "major": MAJORS[d_index], "department": department},
            )
            staff = teachers[department.pk]
            if created and len(staff) >= 2:
                school_class.head_teacher = staff[n - 1]
                school_class.save(update_fields=["head_teacher"])
                school_class.counsellors.add(staff[-n])
            classes.append(school_class)
    students = User.objects.filter(
        kind=UserKind.STUDENT, school_class__isnull=True, username__startswith="S2024"
    )
    for student in students:
        index = int(student.username[1:]) - 2024001
        student.school_class = classes[(index % 5) * 2 + (index // 5) % 2]
        student.save(update_fields=["school_class"])
    return classes


def _member(group: CampusGroup, user: User | None, title: str, *, manager: bool = False) -> None:
    if user is not None:
        GroupMembership.objects.get_or_create(
            group=group, user=user, defaults={"title": title, "is_manager": manager}
        )


def _seed_groups(classes: list[SchoolClass]) -> int:
    """班干部 (three cadres per class), 学生会 and a 协会, with titles and managers."""
    cadres, _ = CampusGroup.objects.get_or_create(
        name="2024级班干部", defaults={"description": "各班班长、团支书、学习委员"}
    )
    union, _ = CampusGroup.objects.get_or_create(name="学生会", defaults={"description": "学院学生会"})
    club, _ = CampusGroup.objects.get_or_create(
        name="计算机协会", defaults={"description": "编程与竞赛兴趣协会"}
    )
    for school_class in classes:
        students = list(school_class.students.order_by("username")[: len(CLASS_CADRES)])
        for title, student in zip(CLASS_CADRES, students, strict=False):
            _member(cadres, student, f"{school_class.name}{title}")
    _member(cadres, User.objects.filter(username=DEMO_TEACHER).first(), "辅导员", manager=True)
    union_titles = ["主席", "副主席", "学习部部长", "文艺部部长", "体育部部长", "干事", "干事", "干事"]
    for offset, title in enumerate(union_titles):
        _member(
            union,
            User.objects.filter(username=f"S{2024001 + offset * 7}").first(),
            title,
            manager=offset == 0,
        )
    _member(club, User.objects.filter(username="S2024002").first(), "会长", manager=True)
    for offset in range(3, 30, 3):
        _member(club, User.objects.filter(username=f"S{2024001 + offset}").first(), "会员")
    return 3


def _seed_friendships() -> int:
    """张三 (T1001) and some colleagues in other departments add each other; a few one-way."""
    zhang = User.objects.filter(username=DEMO_TEACHER).first()
    if zhang is None:
        return 0
    others = list(
        User.objects.filter(kind=UserKind.TEACHER)
        .exclude(department=zhang.department)
        .order_by("username")[:6]
    )
    pairs = [(zhang, other) for other in others] + [(other, zhang) for other in others[:3]]
    student = User.objects.filter(username=DEMO_STUDENT).first()
    if student is not None:
        pairs.append((student, zhang))
    for user, friend in pairs:
        Friendship.objects.get_or_create(user=user, friend=friend)
    return Friendship.objects.count()
