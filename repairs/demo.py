"""Demo data for repairs: categories with their mail recipients, and requests in every status."""

import datetime as dt
import random

from django.utils import timezone

from accounts.models import User

from . import selectors, services
from .models import FaultCategory, NotificationRecipient, RepairEvent, RepairRequest, RepairStatus

CATEGORIES = [
    # name, hours to solve, recipients (name, e-mail)
    ("网络故障", 24, [("网络中心值班", "network@example.edu.cn")]),
    ("电力照明", 12, [("后勤电工班", "power@example.edu.cn")]),
    ("空调暖通", 48, [("后勤空调组", "hvac@example.edu.cn")]),
    ("多媒体设备", 8, [("教务多媒体组", "av@example.edu.cn"), ("实验中心", "lab@example.edu.cn")]),
    ("门窗水电", 48, [("物业维修", "estate@example.edu.cn")]),
    ("其他", 72, []),
]
CATCH_ALL = ("学院办公室", "office@example.edu.cn")
PROBLEMS = {
    "网络故障": ["办公室无线网络连不上", "网口没有信号", "校园网认证页面打不开"],
    "电力照明": ["走廊灯不亮", "插座没电", "空气开关频繁跳闸"],
    "空调暖通": ["空调不制热", "空调漏水", "暖气片不热"],
    "多媒体设备": ["投影仪无信号", "话筒没有声音", "中控台无法开机"],
    "门窗水电": ["门锁坏了", "窗户关不上", "卫生间水龙头漏水"],
    "其他": ["饮水机不出水", "座椅损坏", "黑板松动"],
}
PLACES = ["教学楼", "科学馆", "图书馆", "实验楼", "行政楼"]
REPLIES = {
    RepairStatus.PROCESSING: "已安排师傅上门查看。",
    RepairStatus.SOLVED: "已修好，请确认。",
}
PER_STATUS = 12


def seed(out) -> list[str]:
    rng = random.Random(20261123)
    categories = []
    for position, (name, hours, recipients) in enumerate(CATEGORIES, start=1):
        category, _ = FaultCategory.objects.get_or_create(
            name=name, defaults={"position": position, "response_hours": hours}
        )
        categories.append(category)
        for person, email in recipients:
            NotificationRecipient.objects.get_or_create(
                email=email, category=category, defaults={"name": person}
            )
    if not NotificationRecipient.objects.filter(category__isnull=True, email=CATCH_ALL[1]).exists():
        NotificationRecipient.objects.create(name=CATCH_ALL[0], email=CATCH_ALL[1], category=None)

    if RepairRequest.objects.exists():
        return []
    reporters = list(User.objects.filter(is_staff=False).order_by("username")[:20])
    staff = list(User.objects.filter(is_staff=True).order_by("username"))
    if not reporters or not staff:
        return []
    now = timezone.now()
    for status in RepairStatus.values:
        for i in range(PER_STATUS):
            category = rng.choice([*categories, None])
            problem = rng.choice(PROBLEMS[category.name if category else "其他"])
            created = now - dt.timedelta(hours=rng.randrange(1, 24 * 10))
            repair = RepairRequest.objects.create(
                user=reporters[(i * 7 + len(status)) % len(reporters)],
                location=f"{rng.choice(PLACES)}{rng.randrange(1, 6)}{rng.randrange(1, 20):02d}",
                category=category,
                description=problem,
                due_at=selectors.repair_request_due_at(category=category, created_at=created),
            )
            # Backdated so the dashboard has every age; the mail of demo requests is not sent.
            RepairRequest.objects.filter(pk=repair.pk).update(created_at=created)
            RepairEvent.objects.create(request=repair, actor=repair.user, kind="created", to_status="pending")
            _walk(repair, status, staff=rng.choice(staff), rng=rng)
    return [
        f"报修：{len(categories)} 个故障分类，{PER_STATUS * len(RepairStatus.values)} 条报修（各状态都有）"
    ]


def _walk(repair: RepairRequest, status: str, *, staff: User, rng: random.Random) -> None:
    """Take a fresh request to ``status`` through the services, as staff and reporter would."""
    S = RepairStatus
    if status == S.PENDING:
        return
    services.repair_request_assign(repair=repair, assignee=staff, by=staff)
    services.repair_request_change_status(
        repair=repair, to_status=S.PROCESSING, by=staff, comment=REPLIES[S.PROCESSING]
    )
    if rng.random() < 0.3:
        services.repair_request_comment(repair=repair, by=staff, content="需要采购配件", internal=True)
    if status == S.PROCESSING:
        return
    services.repair_request_change_status(
        repair=repair, to_status=S.SOLVED, by=staff, comment=REPLIES[S.SOLVED]
    )
    if status == S.CLOSED:
        services.repair_request_confirm(
            repair=repair, by=repair.user, rating=rng.randint(3, 5), comment="谢谢"
        )
