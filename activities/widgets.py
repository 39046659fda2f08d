"""The enrollment-form builder: a textarea holding the JSON, enhanced by a small vanilla-JS editor."""

import json

from django import forms

from .form_schema import FIELD_TYPES


class FormBuilderWidget(forms.Textarea):
    """Without JavaScript this is the plain JSON textarea; the server validates it either way."""

    template_name = "admin/activities/form_builder_widget.html"

    class Media:
        js = ("activities/form_builder.js",)
        css = {"all": ("activities/form_builder.css",)}

    def __init__(self, attrs=None):
        super().__init__(attrs={"rows": 8, "cols": 90, **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["types_json"] = json.dumps(FIELD_TYPES, ensure_ascii=False)
        return context
