import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from repairs.models import FaultCategory, NotificationRecipient, RepairRequest, RepairStatus


class FaultCategoryFactory(DjangoModelFactory):
    class Meta:
        model = FaultCategory
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"故障分类{n}")
    position = factory.Sequence(lambda n: n)
    response_hours = 24


class RecipientFactory(DjangoModelFactory):
    class Meta:
        model = NotificationRecipient

    name = factory.Sequence(lambda n: f"维修员{n}")
    email = factory.Sequence(lambda n: f"fixer{n}@example.edu.cn")
    category = factory.SubFactory(FaultCategoryFactory)


class RepairRequestFactory(DjangoModelFactory):
    """A request row as the service would write it (no mail routed): for reads and the workflow."""

    class Meta:
        model = RepairRequest

    user = factory.SubFactory(UserFactory)
    location = factory.Sequence(lambda n: f"教学楼{100 + n}")
    category = factory.SubFactory(FaultCategoryFactory)
    description = "网络断了"
    status = RepairStatus.PENDING
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=24))
