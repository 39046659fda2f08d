"""Filters of seed 001's two message lists, applied inside the selectors.

Bad values are errors (a 400 naming the parameter), never silently ignored: ``is_read=maybe``
or ``type=email`` must not answer an unfiltered list.
"""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from . import search
from .models import Message, MessagePriority, MessageRecipient, MessageType

MAX_ID = 2**63 - 1  # ids are BIGINT: a larger number is a 400, not a database error
TRUE_VALUES = {"true", "1", "yes", "on"}
FALSE_VALUES = {"false", "0", "no", "off"}


class StrictBooleanField(forms.Field):
    """``true``/``false`` (any case, as JavaScript and Python's ``requests`` send them), 1/0."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise ValidationError("必须是 true 或 false。", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ChoiceFilter(django_filters.ChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("error_messages", {"invalid_choice": "“%(value)s” 不是合法选项。"})
        super().__init__(*args, **kwargs)


def _search(queryset, name, value):
    """Full-text search over title and content, ranked by relevance (``messaging.search``)."""
    value = value.strip()
    if not value:
        return queryset
    return search.search_filter(queryset, value)


class UserMessageFilterSet(django_filters.FilterSet):
    """``GET /api/v1/messages``: on a queryset carrying the user's ``state_*`` annotations."""

    type = ChoiceFilter(choices=MessageType.choices)
    priority = ChoiceFilter(choices=MessagePriority.choices)
    is_read = StrictBooleanFilter(method="filter_is_read")
    is_archived = StrictBooleanFilter(method="filter_is_archived")
    sender_id = django_filters.NumberFilter(field_name="sender_id", min_value=1, max_value=MAX_ID)
    category_id = django_filters.NumberFilter(field_name="category_id", min_value=1, max_value=MAX_ID)
    search = django_filters.CharFilter(method=_search, max_length=100)

    class Meta:
        model = Message
        fields = ()

    def filter_is_read(self, queryset, name, value):
        return queryset.filter(state_read_at__isnull=not value)

    def filter_is_archived(self, queryset, name, value):
        return queryset.filter(state_archived_at__isnull=not value)


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


class SenderMessageFilterSet(django_filters.FilterSet):
    """``GET /api/v1/admin/messages``; ``date_from``/``date_to`` are publish days, inclusive."""

    type = ChoiceFilter(choices=MessageType.choices)
    priority = ChoiceFilter(choices=MessagePriority.choices)
    sender_id = django_filters.NumberFilter(field_name="sender_id", min_value=1, max_value=MAX_ID)
    is_active = StrictBooleanFilter(field_name="is_active")
    is_global = StrictBooleanFilter(field_name="is_global")
    category_id = django_filters.NumberFilter(field_name="category_id", min_value=1, max_value=MAX_ID)
    search = django_filters.CharFilter(method=_search, max_length=100)
    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")

    class Meta:
        model = Message
        fields = ()

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(published_at__gte=_day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(published_at__lt=_day_start(value + timedelta(days=1)))

    @property
    def qs(self):
        data = self.form.cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError({"date_to": ["结束日期不能早于开始日期。"]})
        return super().qs


class RecipientFilterSet(django_filters.FilterSet):
    """``GET /api/v1/admin/messages/{id}/recipients`` (extension): who has (not) read or archived."""

    is_read = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull", exclude=True)
    is_archived = StrictBooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = MessageRecipient
        fields = ()


def apply_filterset(filterset_class, data, queryset: QuerySet) -> QuerySet:
    """Filter ``queryset`` with ``filterset_class``; invalid parameters raise a 400."""
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError({field: [str(e) for e in errors] for field, errors in filterset.errors.items()})
    return filterset.qs
