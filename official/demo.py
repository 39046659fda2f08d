"""Demo data for the official account: followers (two bound to the demo logins), robot rules, a
topic with posts, an inbox thread, a menu, a class QR code, tags and a mass-send draft. WeChat
itself is never called: rows are written as WeChat's events would leave them."""

import datetime as dt

from django.utils import timezone

from accounts.models import SchoolClass, User

from .models import (
    Follower,
    InboundMessage,
    InboxThread,
    KeywordRule,
    MassSend,
    Menu,
    MenuItem,
    OfficialTag,
    QrScene,
    Topic,
    TopicPost,
)

RULES = [
    # name, match, pattern, reply
    ("校历", "exact", "校历", "2026–2027 学年校历见 https://example.edu.cn/calendar"),
    ("办公电话", "contains", "电话", "学院办公室电话：025-8378-0000（工作日 8:00–17:30）"),
    ("放假安排", "regex", r"(放假|假期).*(安排|时间)", "放假安排以学校通知为准，发送「未读」查看最新通知。"),
]
POSTS = ["食堂的红烧肉很好吃", "晚上十点后排队的人太多了", "建议增加一个清真窗口"]


def _openid(n: int) -> str:
    return f"oDEMO{n:023d}"


def seed(out) -> list[str]:
    now = timezone.now()
    users = list(User.objects.filter(username__in=["T1001", "S2024001"]).order_by("username"))
    followers = []
    for n, user in enumerate(users, start=1):
        follower, _ = Follower.objects.get_or_create(
            openid=_openid(n),
            defaults={
                "user": user,
                "bound_at": now,
                "subscribed": True,
                "subscribed_at": now - dt.timedelta(days=20),
                "last_message_at": now - dt.timedelta(hours=3),
            },
        )
        followers.append(follower)
    stranger, _ = Follower.objects.get_or_create(
        openid=_openid(99),
        defaults={
            "subscribed": True,
            "subscribed_at": now - dt.timedelta(days=2),
            "last_message_at": now - dt.timedelta(hours=1),
        },
    )
    for priority, (name, match, pattern, text) in enumerate(RULES, start=1):
        KeywordRule.objects.get_or_create(
            name=name, defaults={"match": match, "pattern": pattern, "text": text, "priority": priority * 10}
        )
    topic, created = Topic.objects.get_or_create(name="食堂", defaults={"last_post_at": now})
    if created:
        for follower, content in zip([*followers, *followers][: len(POSTS)], POSTS, strict=False):
            TopicPost.objects.create(topic=topic, follower=follower, author=follower.user, content=content)
        Topic.objects.filter(pk=topic.pk).update(post_count=topic.posts.count())
    message, created = InboundMessage.objects.get_or_create(
        dedup_key="m:demo-1",
        defaults={
            "follower": stranger,
            "kind": "text",
            "content": "请问研究生复试名单什么时候公布？",
            "sent_at": now - dt.timedelta(hours=1),
            "handling": "inbox",
        },
    )
    InboxThread.objects.get_or_create(
        follower=stranger, defaults={"unread": 1, "last_incoming_at": message.sent_at}
    )
    menu, created = Menu.objects.get_or_create(name="默认菜单")
    if created:
        MenuItem.objects.bulk_create(
            [
                MenuItem(menu=menu, column=1, position=0, name="今日", kind="click", key="今日"),
                MenuItem(menu=menu, column=2, position=0, name="服务"),
                MenuItem(menu=menu, column=2, position=1, name="未读消息", kind="click", key="未读"),
                MenuItem(menu=menu, column=2, position=2, name="帮助", kind="click", key="帮助"),
                MenuItem(
                    menu=menu, column=3, position=0, name="门户", kind="view", url="https://example.edu.cn/m/"
                ),
            ]
        )
    school_class = SchoolClass.objects.order_by("pk").first()
    if school_class is not None:
        QrScene.objects.get_or_create(
            school_class=school_class,
            defaults={
                "scene": f"class:{school_class.pk}",
                "ticket": "DEMO",
                "url": "http://weixin.qq.com/q/demo",
            },
        )
        if school_class.grade:
            OfficialTag.objects.get_or_create(
                grade=school_class.grade, defaults={"source": "grade", "name": f"年级-{school_class.grade}级"}
            )
    MassSend.objects.get_or_create(
        title="寒假放假通知（草稿）", defaults={"content": "寒假自 1 月 18 日起。"}
    )
    return ["公众号：演示粉丝、自动回复规则、#食堂# 话题、一条待处理的客服会话、默认菜单（未发布）"]
