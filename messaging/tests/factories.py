import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from messaging import search
from messaging.models import Category, Message, MessagePriority, MessageRecipient, MessageType


class MessageFactory(DjangoModelFactory):
    """A published, active, targeted message (add ``MessageRecipientFactory`` rows as needed)."""

    class Meta:
        model = Message
        skip_postgeneration_save = True  # the search-index hook changes nothing on the message

    title = factory.Sequence(lambda n: f"测试消息{n}")
    content = "请各位老师准时参加。"
    type = MessageType.NOTIFICATION
    priority = MessagePriority.NORMAL
    sender = factory.SubFactory(UserFactory, is_staff=True, kind="staff")
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def search_index(obj, create, extracted, **kwargs):
        """Index the title and content as the services do (the factory bypasses them)."""
        if create:
            search.message_index(message=obj)


class GlobalMessageFactory(MessageFactory):
    is_global = True


class MessageRecipientFactory(DjangoModelFactory):
    class Meta:
        model = MessageRecipient

    message = factory.SubFactory(MessageFactory)
    recipient = factory.SubFactory(UserFactory)


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"分类{n}")
    position = factory.Sequence(lambda n: n)
