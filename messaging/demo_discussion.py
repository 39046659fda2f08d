"""Demo data of comments, private questions and polls (issue 20 items 3 and 5): the demo teacher's
message to students with public comments, private questions (one answered, one open, one hidden
comment), an open poll with votes and a closed one. Written through the services (the counters are
theirs); running it again adds nothing."""

from datetime import timedelta

from django.utils import timezone

from accounts.demo import DEMO_STUDENT, DEMO_TEACHER
from accounts.models import User

from . import comments, polls, services
from .models import Message, Poll

OPEN_TITLE = "春季运动会报名（评论与投票示例）"
CLOSED_TITLE = "班级聚餐地点（已截止的投票）"


def seed(out) -> list[str]:
    if Message.objects.filter(title=OPEN_TITLE).exists():
        return []
    teacher = User.objects.filter(username=DEMO_TEACHER).first()
    students = list(User.objects.filter(is_active=True, kind="student").order_by("pk")[:12])
    demo_student = User.objects.filter(username=DEMO_STUDENT).first()
    if teacher is None or len(students) < 4:
        return []
    if demo_student is not None and demo_student not in students:
        students = [demo_student, *students[:11]]
    ids = [s.pk for s in students]

    message = services.message_send(
        sender=teacher,
        title=OPEN_TITLE,
        content="运动会将于下月举行，欢迎报名。有问题可以在下面评论，或私下向我提问。",
        recipient_ids=ids,
        comments_open=True,
    )
    polls.poll_create(
        message=message,
        question="你想参加哪些项目？",
        options=["100 米", "400 米", "跳远", "拔河", "接力"],
        multiple=True,
        max_choices=2,
        closes_at=timezone.now() + timedelta(days=7),
    )
    message.is_moderator = False
    for i, student in enumerate(students[1:9]):
        option_ids = list(message.poll.options.order_by("position").values_list("pk", flat=True))
        polls.poll_vote(
            message=message, user=student, option_ids=[option_ids[i % 5], option_ids[(i + 2) % 5]]
        )
    comments.comment_create(message=message, user=students[1], body="去年的拔河很精彩，今年一定参加！")
    comments.comment_create(message=message, user=students[2], body="报名截止到什么时候？")
    spam = comments.comment_create(message=message, user=students[3], body="出售二手球鞋，私聊")
    answered = comments.comment_create(
        message=message, user=students[0], body="我脚踝受过伤，可以只报拔河吗？", private=True
    )
    comments.comment_create(message=message, user=students[2], body="可以帮忙做志愿者吗？", private=True)
    message.is_moderator = True
    comments.comment_create(
        message=message, user=teacher, body="可以，量力而行，拔河也需要注意热身。", reply_to_id=answered.pk
    )
    comments.comment_hide(message=message, comment_id=spam.pk, by=teacher)

    closed = services.message_send(
        sender=teacher,
        title=CLOSED_TITLE,
        content="期末聚餐地点投票已结束，结果见下。",
        recipient_ids=ids,
        comments_open=False,
    )
    polls.poll_create(message=closed, question="聚餐去哪里？", options=["学校食堂", "火锅店", "烧烤店"])
    closed_options = list(closed.poll.options.order_by("position").values_list("pk", flat=True))
    for i, student in enumerate(students):
        polls.poll_vote(message=closed, user=student, option_ids=[closed_options[min(i % 4, 2)]])
    Poll.objects.filter(message=closed).update(closes_at=timezone.now() - timedelta(hours=1))
    return [f"  评论与投票：{DEMO_TEACHER} 的两条消息（评论、私密提问、进行中的投票和已截止的投票）"]
