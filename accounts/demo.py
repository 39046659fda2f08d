"""Demo data for accounts: departments, teachers, students and a demo admin."""

import random

from django.contrib.auth.hashers import make_password

from .models import Department, User, UserKind
from .services import user_create

DEMO_PASSWORD = "demo1234"  # noqa: S105 - the published demo password, printed by `make run`
ADMIN_USERNAME = "admin"
DEMO_TEACHER = "T1001"
DEMO_STUDENT = "S2024001"

DEPARTMENTS = ["计算机科学与技术系", "软件工程系", "网络工程系", "信息安全系", "人工智能系", "学院办公室"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾单解覃")
GIVEN_NAMES = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然轩涵诺怡晨阳远嘉")
POSTS = ["教授", "副教授", "讲师", "助理研究员", "实验师", "系主任", "教学秘书"]


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
    return [
        f"演示账号（密码均为 {DEMO_PASSWORD}）：",
        f"  管理员   {ADMIN_USERNAME}    （后台 /admin/）",
        f"  教师     {DEMO_TEACHER}     （张三）",
        f"  学生     {DEMO_STUDENT}  （李四）",
    ]
