"""Build a realistic data set quickly (bulk inserts, one password hash for everyone).

Each domain contributes a builder; a builder is skipped when the data is already there, so a
second run starts at once.
"""

import random

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import AuthToken, Department, SchoolClass, User, UserKind
from accounts.pinyin import name_keys

from .progress import Progress

BATCH = 5000
PASSWORD = "bench-pass-123"
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾单解覃萧田董潘袁蔡蒋余于杜叶程"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然轩涵诺怡晨阳远嘉思雨博文")


def build_users(scale: dict, rng: random.Random) -> None:
    total = scale["users"]
    if User.objects.filter(username__startswith="U").count() >= total:
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


BUILDERS = [build_users]
