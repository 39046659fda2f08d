import re

import django_filters
from django.db.models import Q

from .models import Guide

TERM_SPLIT = re.compile(r"[\s,，]+")


class GuideFilter(django_filters.FilterSet):
    """``search``: every word (split on spaces or commas) must occur in the name or description."""

    search = django_filters.CharFilter(method="filter_search", label="搜索（名称或说明）", max_length=100)
    category = django_filters.NumberFilter(field_name="category_id", label="分类 ID")

    class Meta:
        model = Guide
        fields = ("search", "category")

    def filter_search(self, queryset, name, value):
        for term in filter(None, TERM_SPLIT.split(value)):
            queryset = queryset.filter(Q(name__icontains=term) | Q(description__icontains=term))
        return queryset
