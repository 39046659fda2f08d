"""Demo data for the message center: a few hundred messages of every type and priority.

Global and targeted (by department, by kind, to named users), some scheduled, some expired, one
withdrawn, with read and archive states that look like real reading. Written with
``bulk_create``; running it again adds nothing.
"""

import random
from datetime import timedelta

from django.utils import timezone

from accounts.models import Department, User, UserKind

from . import demo_content, demo_delivery, demo_discussion
from .models import Message, MessagePriority, MessageRecipient, MessageType

DEMO_MESSAGES = 300
MARK_TITLE = "欢迎使用消息中心"

TITLES = {
    MessageType.NOTIFICATION: [
        ("系统维护通知", "系统将于本周六 22:00 至 24:00 维护，期间暂停服务。"),
        ("会议室预约功能更新", "会议室预约现已支持按时长查找空闲会议室。"),
        ("校园网络升级", "本周三晚图书馆区域网络升级，可能短时中断。"),
        ("报修进度更新", "您提交的报修单已由后勤处受理，请保持电话畅通。"),
    ],
    MessageType.ANNOUNCEMENT: [
        ("春季学期校历发布", "新学期校历已发布，请各位老师同学查阅。"),
        ("学院年度表彰名单公示", "公示期为 5 个工作日，如有异议请联系学院办公室。"),
        ("关于学院办公时间调整的通知", "即日起学院办公室工作日 8:00–17:30 对外办公。"),
        ("研究生招生复试安排", "复试将于下周进行，具体安排见附件。"),
    ],
    MessageType.REMINDER: [
        ("部门例会提醒", "明天上午 10 点在 3 楼会议室召开部门例会，请准时参加。"),
        ("成绩录入截止提醒", "本学期成绩录入将于周五 17:00 截止。"),
        ("体检预约提醒", "教职工年度体检预约通道将于本周关闭。"),
        ("活动签到提醒", "您报名的讲座将于今晚 19:00 开始，请提前签到。"),
    ],
    MessageType.APPROVAL: [
        ("请假申请待审批", "张三提交了 3 天事假申请，请审批。"),
        ("报销单审批结果", "您提交的差旅报销已审批通过。"),
        ("会议室借用审批", "学生会申请借用报告厅，请审批。"),
        ("调课申请审批结果", "您的调课申请已通过，请通知学生。"),
    ],
}
READ_PROBABILITY = {
    MessagePriority.URGENT: 0.92,
    MessagePriority.HIGH: 0.78,
    MessagePriority.NORMAL: 0.6,
    MessagePriority.LOW: 0.4,
}


def _audience(rng: random.Random, users: list[User], departments: list[Department]):
    """A random targeted audience: (user ids, department ids, kinds, direct user ids)."""
    choice = rng.random()
    if choice < 0.4 and departments:
        dept = rng.choice(departments)
        return [u.pk for u in users if u.department_id == dept.pk], [dept.pk], [], []
    if choice < 0.6:
        kind = rng.choice([UserKind.TEACHER, UserKind.STUDENT])
        return [u.pk for u in users if u.kind == kind], [], [kind.value], []
    direct = [u.pk for u in rng.sample(users, min(len(users), rng.randint(1, 8)))]
    return direct, [], [], direct


def _state(rng: random.Random, published, priority, now):
    """A plausible (read_at, archived_at) for a message published at ``published``."""
    if published > now or rng.random() > READ_PROBABILITY[priority]:
        return None, None
    age = (now - published).total_seconds()
    read_at = published + timedelta(seconds=min(age, rng.expovariate(1 / 7200)))
    archived_at = None
    if rng.random() < 0.2:
        archived_at = read_at + timedelta(
            seconds=min((now - read_at).total_seconds(), rng.uniform(60, 86400))
        )
    return read_at, archived_at


def seed(out) -> list[str]:
    return [*_seed_messages(), *demo_delivery.seed(out), *demo_content.seed(out), *demo_discussion.seed(out)]


def _seed_messages() -> list[str]:
    if Message.objects.filter(title=MARK_TITLE).exists():
        return []
    users = list(User.objects.filter(is_active=True).order_by("pk"))
    if not users:
        return []
    rng = random.Random(20261124)
    now = timezone.now()
    senders = [u for u in users if u.is_staff] or users[:1]
    departments = list(Department.objects.all())
    types, priorities = list(MessageType), list(MessagePriority)

    plans = []
    for i in range(DEMO_MESSAGES):
        message_type = types[i % len(types)]
        priority = priorities[(i // len(types)) % len(priorities)]
        title, content = rng.choice(TITLES[message_type])
        published = now - timedelta(days=rng.uniform(0, 90))
        expires = None
        roll = rng.random()
        if roll < 0.1:  # scheduled
            published = now + timedelta(hours=rng.uniform(1, 240))
        elif roll < 0.2:  # already expired
            expires = published + timedelta(days=rng.uniform(0.5, 3))
            if expires > now:
                published, expires = now - timedelta(days=5), now - timedelta(days=1)
        elif roll < 0.35:  # will expire
            expires = now + timedelta(days=rng.uniform(1, 30))
        is_global = rng.random() < 0.15
        audience = ([], [], [], []) if is_global else _audience(rng, users, departments)
        plans.append((message_type, priority, title, content, published, expires, is_global, audience))
    # The newest one, easy to find: to everyone, urgent, unread by most.
    plans.append(
        (
            MessageType.ANNOUNCEMENT,
            MessagePriority.URGENT,
            MARK_TITLE,
            "在这里查看通知、公告、提醒和审批消息，可标记已读或归档。",
            now - timedelta(minutes=5),
            None,
            True,
            ([], [], [], []),
        )
    )

    active_users = len(users)
    messages = Message.objects.bulk_create(
        [
            Message(
                title=title,
                content=content,
                type=message_type,
                priority=priority,
                sender=None if i % 7 == 0 else rng.choice(senders),
                is_global=is_global,
                is_active=i != 13,  # one withdrawn message
                published_at=published,
                expires_at=expires,
                audience_kinds=audience[2],
                audience_user_ids=audience[3],
                audience_size=active_users if is_global else len(audience[0]),
                publish_processed_at=published if published <= now else None,
            )
            for i, (
                message_type,
                priority,
                title,
                content,
                published,
                expires,
                is_global,
                audience,
            ) in enumerate(plans)
        ]
    )

    rows = []
    through = Message.audience_departments.through
    department_links = []
    for message, plan in zip(messages, plans, strict=True):
        audience_ids = plan[7][0]
        department_links += [through(message_id=message.pk, department_id=d) for d in plan[7][1]]
        if message.is_global:
            # Fan-out on read: only the users who read or archived it have a row.
            readers = [u.pk for u in users if rng.random() < READ_PROBABILITY[message.priority] * 0.8]
            for user_id in readers:
                read_at, archived_at = _state(rng, message.published_at, message.priority, now)
                if read_at:
                    rows.append(
                        MessageRecipient(
                            message=message, recipient_id=user_id, read_at=read_at, archived_at=archived_at
                        )
                    )
            continue
        for user_id in audience_ids:
            read_at, archived_at = _state(rng, message.published_at, message.priority, now)
            rows.append(
                MessageRecipient(
                    message=message, recipient_id=user_id, read_at=read_at, archived_at=archived_at
                )
            )
    through.objects.bulk_create(department_links, batch_size=2000)
    MessageRecipient.objects.bulk_create(rows, batch_size=2000)
    return [f"  消息中心：{len(messages)} 条演示消息，{len(rows)} 条接收/阅读记录"]
