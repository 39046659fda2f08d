import factory
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory

from guides import services
from guides.models import Guide, GuideCategory
from guides.samples import build_pdf


class GuideCategoryFactory(DjangoModelFactory):
    class Meta:
        model = GuideCategory
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"指南分类{n}")


class GuideFactory(DjangoModelFactory):
    """A guide with a real PDF, stored through the same service the admin uses."""

    class Meta:
        model = Guide

    name = factory.Sequence(lambda n: f"办事指南{n}")
    description = "办理流程与所需材料"
    category = factory.SubFactory(GuideCategoryFactory)
    is_published = True
    file = factory.LazyAttribute(lambda o: ContentFile(build_pdf([f"Guide {o.name}"]), name=f"{o.name}.pdf"))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.guide_create(**kwargs)
