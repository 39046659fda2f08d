"""Selectors other apps use: hot topics (one query whatever the page), openids, totals."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from official import selectors
from official.models import TopicPost
from official.services import topics
from official.tests.factories import BoundFollowerFactory, TopicFactory, TopicPostFactory

pytestmark = pytest.mark.django_db


def test_hot_topics_rank_by_recent_visible_posts():
    busy, quiet, stale, hidden = (TopicFactory(name=n) for n in ("食堂", "图书馆", "去年", "隐藏"))
    for _ in range(3):
        TopicPostFactory(topic=busy)
    TopicPostFactory(topic=quiet)
    old = TopicPostFactory(topic=stale)
    TopicPost.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    TopicPostFactory(topic=hidden)
    topics.topic_set_hidden(topic_ids=[hidden.pk], hidden=True)
    hot = list(selectors.topic_hot_list(days=7))
    assert [t.name for t in hot] == ["食堂", "图书馆"]
    assert hot[0].recent_posts == 3


def test_hidden_posts_do_not_count():
    topic = TopicFactory(name="宿舍")
    posts = [TopicPostFactory(topic=topic) for _ in range(2)]
    topics.topic_post_set_hidden(post_ids=[posts[0].pk], hidden=True)
    topic.refresh_from_db()
    assert topic.post_count == 1
    assert [t.recent_posts for t in selectors.topic_hot_list()] == [1]
    assert list(selectors.topic_post_list(topic=topic)) == [posts[1]]


def test_pinned_posts_come_first():
    topic = TopicFactory(name="选课")
    first = TopicPostFactory(topic=topic)
    TopicPostFactory(topic=topic)
    topics.topic_post_set_pinned(post_ids=[first.pk], pinned=True)
    assert list(selectors.topic_post_list(topic=topic))[0] == first


@pytest.mark.parametrize("selector", ["hot", "posts"])
def test_lists_cost_the_same_queries_for_one_row_or_many(selector, django_assert_num_queries):
    topic = TopicFactory(name="话题")

    def run():
        if selector == "hot":
            return [t.recent_posts for t in selectors.topic_hot_list()]
        return [p.author.username for p in selectors.topic_post_list(topic=topic)[:20]]

    TopicPostFactory(topic=topic)
    with django_assert_num_queries(1):
        run()
    for n in range(6):
        TopicPostFactory(topic=TopicFactory(name=f"多{n}"))
        TopicPostFactory(topic=topic)
    with django_assert_num_queries(1):
        assert len(run()) > 1


def test_openids_for_many_users_in_batches(django_assert_num_queries):
    followers = [BoundFollowerFactory() for _ in range(3)]
    ids = [f.user_id for f in followers] + [UserFactory().pk] + list(range(10**6, 10**6 + 4000))
    with django_assert_num_queries(3):  # 4 004 ids: three batches of at most 2 000
        found = selectors.official_openids_for_users(user_ids=ids)
    assert found == {f.user_id: f.openid for f in followers}
