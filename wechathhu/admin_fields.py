"""Date and time fields of every admin form accept the years 2000–2100 (as the API does,
``wechathhu.api.fields``): a year 1 or 9999 was accepted by the form and failed when converted to
UTC for the database (issue 16 item 20). Installed once at start-up over Django admin's defaults,
so every ModelAdmin's form gets it."""

from django import forms
from django.contrib.admin import options, widgets
from django.db import models
from django.utils import timezone

from wechathhu.api.fields import EARLIEST_YEAR, LATEST_YEAR

OUT_OF_RANGE = f"时间必须在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间。"


def _check_year(value) -> None:
    if value is None:
        return
    year = timezone.localtime(value).year if timezone.is_aware(value) else value.year
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")


class AdminSplitDateTimeField(forms.SplitDateTimeField):
    def compress(self, data_list):
        value = super().compress(data_list)
        _check_year(value)
        return value


def bound_admin_datetimes() -> None:
    """Over Django admin's defaults (for inlines, built per request) and over every ModelAdmin
    registered already (they copied the defaults when the admin was autodiscovered)."""
    from django.contrib import admin

    bounded = {"form_class": AdminSplitDateTimeField, "widget": widgets.AdminSplitDateTime}
    options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.DateTimeField] = dict(bounded)
    for model_admin in admin.site._registry.values():
        model_admin.formfield_overrides.setdefault(models.DateTimeField, {}).update(
            {
                **bounded,
                **{
                    k: v
                    for k, v in model_admin.formfield_overrides[models.DateTimeField].items()
                    if k == "widget"
                },
            }
        )
