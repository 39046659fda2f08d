"""#Topics# (话题讨论): ``#话题#内容`` posts, ``#话题#`` alone lists the latest posts; staff hide
posts, pin a reply and answer officially."""

import re

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from wechathhu.core.errors import ApplicationError

from ..errors import OfficialErrorCode as E
from ..models import POST_MAX, TOPIC_NAME_MAX, Follower, Handling, Topic, TopicPost

TOPIC = re.compile(rf"^[#＃]([^#＃\r\n]{{1,{TOPIC_NAME_MAX}}})[#＃](.*)$", re.DOTALL)
LATEST = 5
TOPIC_CLOSED = "该话题已关闭。"


def parse_topic(text: str) -> tuple[str, str] | None:
    """``(name, content)`` of a ``#话题#内容`` text, or ``None`` when it is not one."""
    match = TOPIC.match(text.strip())
    if not match:
        return None
    name = match.group(1).strip()
    if not name:
        return None
    return name, match.group(2).strip()


def _topic_get_or_create(name: str) -> Topic:
    topic = Topic.objects.filter(name=name).first()
    if topic is not None:
        return topic
    try:
        with transaction.atomic():
            return Topic.objects.create(name=name)
    except IntegrityError:
        return Topic.objects.get(name=name)


def topic_post_check(*, name: str, content: str) -> None:
    """The rules of a post (the admin's form asks the same before saving)."""
    content = (content or "").strip()
    if not content:
        raise ApplicationError("帖子内容不能为空。", field="content", code=E.INVALID_POST)
    if len(content) > POST_MAX:
        raise ApplicationError(f"帖子不能超过 {POST_MAX} 字。", field="content", code=E.INVALID_POST)
    if Topic.objects.filter(name=(name or "").strip(), is_hidden=True).exists():
        raise ApplicationError(TOPIC_CLOSED, field="topic", code=E.TOPIC_CLOSED)


@transaction.atomic
def topic_post_create(
    *,
    name: str,
    content: str,
    follower: Follower | None = None,
    author=None,
    official: bool = False,
    pinned: bool = False,
) -> TopicPost:
    """A post to ``#name#`` (the topic is created by its first post)."""
    name = name.strip()[:TOPIC_NAME_MAX]
    topic_post_check(name=name, content=content)
    content = content.strip()
    topic = _topic_get_or_create(name)
    post = TopicPost(
        topic=topic,
        follower=follower,
        author=author if author is not None else (follower.user if follower else None),
        content=content,
        is_official=official,
        is_pinned=pinned,
    )
    post.full_clean()
    post.save()
    Topic.objects.filter(pk=topic.pk).update(post_count=F("post_count") + 1, last_post_at=post.created_at)
    return post


def topic_latest_text(*, name: str) -> str:
    from ..selectors import topic_post_list_latest

    posts = list(topic_post_list_latest(name=name, limit=LATEST))
    if not posts:
        return f"#{name}# 还没有讨论，发送“#{name}#内容”参与。"
    lines = [f"#{name}# 最新讨论："]
    for post in posts:
        who = "官方" if post.is_official else (post.author.full_name if post.author else "同学")
        mark = "【置顶】" if post.is_pinned else ""
        lines.append(
            f"{mark}{who}（{timezone.localtime(post.created_at):%m-%d %H:%M}）：{post.content[:100]}"
        )
    return "\n".join(lines)


def topic_answer(*, follower: Follower, text: str, post: bool = True):
    """The robot's part: post (bound users) or list the latest posts; ``None`` when ``text`` is not
    a topic. With ``post=False`` a post is not made: ``robot.WRITES`` says one would be."""
    from .robot import WRITES, Answer, bind_link

    parsed = parse_topic(text)
    if parsed is None:
        return None
    name, content = parsed
    if not content:
        return Answer(Handling.TOPIC, text=topic_latest_text(name=name))
    if not (follower.user_id and follower.user.is_active):
        return Answer(Handling.TOPIC, text=f"绑定校园账号后才能发表话题：{bind_link()}")
    if not post:
        return WRITES
    try:
        topic_post_create(name=name, content=content, follower=follower)
    except ApplicationError as exc:
        return Answer(Handling.TOPIC, text=exc.message)
    return Answer(Handling.TOPIC, text=f"已发表到 #{name}#。发送“#{name}#”查看最新讨论。")


@transaction.atomic
def topic_post_set_hidden(*, post_ids, hidden: bool) -> int:
    """Hide (or show again) posts; each topic's visible count follows."""
    posts = list(
        TopicPost.objects.select_for_update().filter(pk__in=list(post_ids)).exclude(is_hidden=hidden)
    )
    for post in posts:
        Topic.objects.filter(pk=post.topic_id).update(post_count=F("post_count") + (-1 if hidden else 1))
    TopicPost.objects.filter(pk__in=[p.pk for p in posts]).update(is_hidden=hidden, updated_at=timezone.now())
    return len(posts)


@transaction.atomic
def topic_post_set_pinned(*, post_ids, pinned: bool) -> int:
    return TopicPost.objects.filter(pk__in=list(post_ids)).update(is_pinned=pinned, updated_at=timezone.now())


@transaction.atomic
def topic_set_hidden(*, topic_ids, hidden: bool) -> int:
    return Topic.objects.filter(pk__in=list(topic_ids)).update(is_hidden=hidden, updated_at=timezone.now())
