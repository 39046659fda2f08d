from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from activities.form_schema import dumps
from activities.models import Activity, ClockinItem, ClockinKind, ClockinRecord, Enrollment

FORM = {
    "姓名": {"type": "text", "required": True},
    "学号": {"type": "number", "required": False},
    "性别": {"type": "radio", "choices": ["男", "女"], "default": "男", "required": False},
    "爱好": {"type": "checkbox", "choices": ["编程", "音乐", "运动"], "default": [], "required": True},
}


class ActivityFactory(DjangoModelFactory):
    class Meta:
        model = Activity

    name = factory.Sequence(lambda n: f"学术讲座{n}")
    description = "人工智能前沿讲座"
    location = "勤学楼 101"
    time_start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    time_end = factory.LazyAttribute(lambda a: a.time_start + timedelta(hours=2))
    open_for_enrollment = True
    form_metas = dumps(FORM)


class ClockinItemFactory(DjangoModelFactory):
    class Meta:
        model = ClockinItem

    activity = factory.SubFactory(ActivityFactory)
    label = factory.Sequence(lambda n: f"打卡{n}")
    kind = ClockinKind.OTHER
    from_time = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    to_time = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


class EnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrollment

    activity = factory.SubFactory(ActivityFactory)
    user = factory.SubFactory(UserFactory)
    participating_metas = dumps({"姓名": "张三", "学号": 2001, "性别": "男", "爱好": ["编程"]})


class ClockinRecordFactory(DjangoModelFactory):
    class Meta:
        model = ClockinRecord

    item = factory.SubFactory(ClockinItemFactory)
    enrollment = factory.LazyAttribute(
        lambda r: (
            Enrollment.objects.filter(activity=r.item.activity, user=r.user).first()
            or EnrollmentFactory(activity=r.item.activity, user=r.user)
        )
    )
    user = factory.SubFactory(UserFactory)
