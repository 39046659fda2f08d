import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import SchoolClassFactory, UserFactory
from official.models import (
    Follower,
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


def openid(n: int) -> str:
    """An openid shaped like WeChat's (28 characters)."""
    return f"oFAKE{n:023d}"


class FollowerFactory(DjangoModelFactory):
    class Meta:
        model = Follower

    openid = factory.Sequence(openid)
    subscribed = True
    subscribed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


class BoundFollowerFactory(FollowerFactory):
    user = factory.SubFactory(UserFactory)
    bound_at = factory.LazyFunction(timezone.now)


class KeywordRuleFactory(DjangoModelFactory):
    class Meta:
        model = KeywordRule

    name = factory.Sequence(lambda n: f"规则{n}")
    pattern = factory.Sequence(lambda n: f"关键词{n}")
    text = "这是自动回复。"


class TopicFactory(DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"话题{n}")


class TopicPostFactory(DjangoModelFactory):
    """A post as ``topic_post_create`` writes it (the topic's counters follow)."""

    class Meta:
        model = TopicPost
        skip_postgeneration_save = True

    topic = factory.SubFactory(TopicFactory)
    author = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"帖子内容{n}")

    @factory.post_generation
    def counters(obj, create, extracted, **kwargs):
        if create:
            Topic.objects.filter(pk=obj.topic_id).update(
                post_count=TopicPost.objects.filter(topic_id=obj.topic_id, is_hidden=False).count(),
                last_post_at=obj.created_at,
            )


class InboxThreadFactory(DjangoModelFactory):
    class Meta:
        model = InboxThread

    follower = factory.SubFactory(BoundFollowerFactory)
    unread = 1
    last_incoming_at = factory.LazyFunction(timezone.now)


class MenuFactory(DjangoModelFactory):
    class Meta:
        model = Menu

    name = factory.Sequence(lambda n: f"菜单{n}")


class MenuItemFactory(DjangoModelFactory):
    class Meta:
        model = MenuItem

    menu = factory.SubFactory(MenuFactory)
    column = 1
    position = 0
    name = "今日"
    kind = "click"
    key = "今日"


class QrSceneFactory(DjangoModelFactory):
    class Meta:
        model = QrScene

    school_class = factory.SubFactory(SchoolClassFactory)
    scene = factory.LazyAttribute(lambda q: f"class:{q.school_class.pk}")
    ticket = factory.LazyAttribute(lambda q: f"TICKET-{q.scene}")
    url = factory.LazyAttribute(lambda q: f"http://weixin.qq.com/q/fake-{q.scene}")


class OfficialTagFactory(DjangoModelFactory):
    class Meta:
        model = OfficialTag

    source = "grade"
    grade = factory.Sequence(lambda n: 2000 + n)
    name = factory.LazyAttribute(lambda t: f"年级-{t.grade}级")


class MassSendFactory(DjangoModelFactory):
    class Meta:
        model = MassSend

    title = factory.Sequence(lambda n: f"群发{n}")
    content = "全院通知：明天停电。"
