"""活动: the list, an activity, enrolling with its custom form (validated by the API's service),
my enrolments and waiting-list position, clock-in by the QR code's URL or the typed short code,
and the clock-in officer's rotating code full-screen."""

from __future__ import annotations

import re

import segno
from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.shortcuts import redirect
from django.urls import reverse

from activities import form_schema, qr, selectors, services
from activities.api.throttles import ClockinCodeRateThrottle
from activities.models import ClockinItem, EnrollmentStatus

from ..throttling import throttle_wait, wait_text
from .base import Page, PortalError, not_found_as_404, paginate, service_errors

FIELD_IN_MESSAGE = re.compile(r"（字段：(.+?)）")


class ActivityFilterForm(forms.Form):
    q = forms.CharField(label="搜索活动", required=False, max_length=100)
    tab = forms.ChoiceField(label="范围", required=False, choices=[("all", "全部"), ("mine", "我报名的")])


def enrollment_form_class(schema: dict) -> type[forms.Form]:
    """A Django form that renders ``schema`` (the activity's form) field by field.

    Only for rendering and collecting: every field is optional here and typed as text, so the
    answers reach ``enrollment_create`` as the mini-program would send them and are validated by
    the one owner of the rules (``activities.form_schema``) — required, choices, limits, formats."""
    fields = {}
    for index, (label, rules) in enumerate(schema.items()):
        kind = rules["type"]
        help_text = rules.get("help", "")
        attrs = {"aria-required": "true"} if rules.get("required") else {}
        if kind == "textarea":
            field = forms.CharField(widget=forms.Textarea(attrs={**attrs, "rows": 3}))
        elif kind == "number":
            field = forms.CharField(widget=forms.TextInput(attrs={**attrs, "inputmode": "decimal"}))
        elif kind == "radio":
            field = forms.ChoiceField(choices=[(c, c) for c in rules["choices"]], widget=forms.RadioSelect)
        elif kind == "checkbox":
            field = forms.MultipleChoiceField(
                choices=[(c, c) for c in rules["choices"]], widget=forms.CheckboxSelectMultiple
            )
        elif kind == "date":
            field = forms.CharField(widget=forms.DateInput(attrs={**attrs, "type": "date"}))
        elif kind == "phone":
            field = forms.CharField(
                widget=forms.TextInput(attrs={**attrs, "type": "tel", "autocomplete": "tel"})
            )
        elif kind == "email":
            field = forms.CharField(widget=forms.EmailInput(attrs={**attrs, "autocomplete": "email"}))
        else:
            field = forms.CharField(widget=forms.TextInput(attrs=attrs))
        field.required = False
        field.show_required = bool(rules.get("required"))  # the star; the service checks it
        field.label = label
        field.help_text = help_text
        field.rules = rules
        fields[f"f{index}"] = field
    return type("EnrollmentForm", (forms.Form,), fields)


def _answers(form) -> dict:
    """The answers in the API's shape: label → value (a list for multiple choice), blanks left out
    so the form's defaults apply as they do for the mini-program."""
    answers = {}
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", []):
            continue
        answers[field.label] = value
    return answers


def _initial(schema: dict) -> dict:
    return {
        f"f{index}": rules.get("default")
        for index, (_, rules) in enumerate(schema.items())
        if rules.get("default") not in (None, "", [])
    }


def _place_error(form, message: str) -> None:
    """The service names the field in its message (``（字段：姓名）``): show it on that field."""
    match = FIELD_IN_MESSAGE.search(message)
    if match:
        for name, field in form.fields.items():
            if field.label == match[1]:
                form.add_error(name, message)
                return
    form.add_error(None, message)


class ActivitiesPage(Page):
    template_name = "portal/activities/list.html"
    title = "活动"
    tab = "services"

    def get(self, request):
        form = ActivityFilterForm(request.GET or None)
        search, mine = "", False
        if form.is_bound:
            if not form.is_valid():
                return self.invalid({"form": form, "page_obj": None, "back": "/m/services/"})
            search, mine = form.cleaned_data["q"], form.cleaned_data["tab"] == "mine"
        queryset = selectors.activity_list_for_user(user=request.user, my=mine, search=search)
        page_obj = paginate(request, queryset)
        for activity in page_obj.object_list:
            activity.state_label = selectors.STATE_LABELS[selectors.activity_state(activity)]
        return self.render(
            {"form": form, "page_obj": page_obj, "mine": mine, "search": search, "back": "/m/services/"}
        )


class ActivityPage(Page):
    template_name = "portal/activities/detail.html"
    title = "活动详情"
    tab = "services"

    def get(self, request, pk: int):
        return self.render(activity_context(request, pk))


def activity_context(request, pk: int, **extra) -> dict:
    """An activity with its clock-in items and my enrollment (answers, waiting position)."""
    with not_found_as_404():
        activity = selectors.activity_get_for_user(user=request.user, activity_id=pk)
        items = list(selectors.clockin_item_list_for_user(user=request.user, activity_id=pk))
    enrollment = None
    if activity.my_enrollment_id:
        with not_found_as_404():
            enrollment = selectors.enrollment_get_for_user(
                user=request.user, enrollment_id=activity.my_enrollment_id
            )
        if enrollment.status == EnrollmentStatus.WAITING:
            enrollment.waiting_position = selectors.enrollment_waiting_position(enrollment=enrollment)
        enrollment.answers = {
            label: form_schema.answer_display(value)
            for label, value in form_schema.answers_load(enrollment.participating_metas).items()
        }
    state = selectors.activity_state(activity)
    return {
        "activity": activity,
        "state": state,
        "state_label": selectors.STATE_LABELS[state],
        "items": items,
        "enrollment": enrollment,
        "code_form": CodeForm(),
        "back": "/m/activities/",
        **extra,
    }


class EnrollPage(Page):
    template_name = "portal/activities/enroll.html"
    title = "报名"
    tab = "services"

    def _setup(self, request, pk: int):
        with not_found_as_404():
            activity = selectors.activity_get_for_user(user=request.user, activity_id=pk)
        try:
            schema = form_schema.form_schema_validate(activity.form_metas)
        except Exception:  # noqa: BLE001 - a broken stored form: the service refuses it with its own message
            schema = {}
        return activity, schema

    def get(self, request, pk: int):
        activity, schema = self._setup(request, pk)
        form = enrollment_form_class(schema)(initial=_initial(schema))
        return self.render({"activity": activity, "form": form, "back": f"/m/activities/{pk}/"})

    def post(self, request, pk: int):
        activity, schema = self._setup(request, pk)
        form = enrollment_form_class(schema)(request.POST)
        context = {"activity": activity, "form": form, "back": f"/m/activities/{pk}/"}
        if not form.is_valid():
            return self.invalid(context)
        try:
            with service_errors(form):
                enrollment = services.enrollment_create(
                    user=request.user,
                    activity=activity,
                    participating_metas=_answers(form),
                    join_waiting_list=bool(request.POST.get("join_waiting_list")),
                )
        except PortalError:
            messages = [str(m) for m in form.errors.pop("__all__", [])]
            for message in messages:
                _place_error(form, message)
            context["offer_waiting_list"] = activity.waiting_list_enabled and services.FULL in messages
            return self.invalid(context)
        if enrollment.status == EnrollmentStatus.WAITING:
            position = selectors.enrollment_waiting_position(enrollment=enrollment)
            flash.success(request, f"名额已满，已加入候补名单，当前第 {position} 位。")
        else:
            flash.success(request, "报名成功。")
        return redirect("portal:activity", pk=pk)


class EnrollmentCancelPage(Page):
    def post(self, request, pk: int):
        with not_found_as_404():
            enrollment = selectors.enrollment_get_for_user(user=request.user, enrollment_id=pk)
        form = forms.Form()
        try:
            with service_errors(form):
                services.enrollment_cancel(enrollment=enrollment, user=request.user)
        except PortalError:
            flash.error(request, "；".join(form.non_field_errors()))
            return redirect("portal:activity", pk=enrollment.activity_id)
        flash.success(request, "已取消报名。")
        return redirect("portal:activity", pk=enrollment.activity_id)


# --- Clock-in -----------------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label="打卡码",
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
        help_text="投影屏幕上二维码旁的六位数字",
    )
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)


class LocationForm(forms.Form):
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)


def _clocked(request, result) -> None:
    record = result.record
    if result.created:
        flash.success(request, f"打卡成功：{record.item.label} · {record.item.activity.name}")
    else:
        flash.success(request, f"{services.DUPLICATE_CLOCKIN}您此前已完成「{record.item.label}」打卡。")


class ScanPage(Page):
    """Where the QR code's URL lands (``/m/c/<key>/``): confirm, and clock in (POST), with the
    phone's position when the activity asks for it."""

    template_name = "portal/activities/scan.html"
    title = "扫码打卡"
    tab = "services"

    def _item(self, request, key: str) -> ClockinItem | None:
        """The item of a genuine key, when its activity is one the user may see (else nothing
        about it is shown; the clock-in itself still answers as the API does)."""
        verdict = qr.check_key(key)
        if not verdict.valid:
            return None
        visible = selectors.activity_queryset_for_user(user=request.user).values("pk")
        return (
            ClockinItem.objects.select_related("activity")
            .filter(pk=verdict.item_id, activity_id__in=visible)
            .first()
        )

    def get(self, request, key: str):
        return self.render({"key": key, "item": self._item(request, key), "form": LocationForm()})

    def post(self, request, key: str):
        form = LocationForm(request.POST)
        context = {"key": key, "item": self._item(request, key), "form": form}
        if not form.is_valid():
            return self.invalid(context)
        try:
            with service_errors(form):
                result = services.clockin_scan(
                    user=request.user,
                    key=key,
                    latitude=form.cleaned_data["latitude"],
                    longitude=form.cleaned_data["longitude"],
                )
        except PortalError:
            return self.invalid(context)
        _clocked(request, result)
        return redirect("portal:activity", pk=result.record.item.activity_id)


class CodeClockinPage(Page):
    """The typed short code on an activity's page (POST)."""

    template_name = "portal/activities/detail.html"
    title = "活动详情"
    tab = "services"

    def post(self, request, pk: int):
        form = CodeForm(request.POST)
        context = activity_context(request, pk, code_form=form)
        if not form.is_valid():
            return self.invalid(context)
        wait = throttle_wait(request, ClockinCodeRateThrottle)
        if wait is not None:
            form.add_error("code", f"尝试过于频繁，请{wait_text(wait)}再试。")
            return self.render(context, status=429)
        try:
            with service_errors(form):
                result = services.clockin_with_code(
                    user=request.user,
                    activity_id=pk,
                    code=form.cleaned_data["code"],
                    latitude=form.cleaned_data["latitude"],
                    longitude=form.cleaned_data["longitude"],
                )
        except PortalError:
            return self.invalid(context)
        _clocked(request, result)
        return redirect("portal:activity", pk=pk)


class ClockinCodeEntryPage(Page):
    """输入打卡码 from the home grid: pick one of my activities with a clock-in open now."""

    template_name = "portal/activities/code_entry.html"
    title = "输入打卡码"
    tab = "services"

    def get(self, request):
        page_obj = paginate(request, selectors.activity_list_for_user(user=request.user, my=True))
        return self.render({"page_obj": page_obj, "back": "/m/"})


class OfficerPage(Page):
    """出示打卡码: the clock-in items I am an officer of."""

    template_name = "portal/officer/list.html"
    title = "出示打卡码"
    tab = "services"

    def get(self, request):
        page_obj = paginate(request, selectors.clockin_items_for_officer(user=request.user))
        return self.render({"page_obj": page_obj, "back": "/m/"})


def _code_context(request, item_id: int) -> dict:
    with not_found_as_404():
        item = selectors.clockin_item_get_for_officer_by_id(user=request.user, item_id=item_id)
    key = qr.make_key(item.pk)
    svg = segno.make(qr.scan_url(key), error="m").svg_inline(
        omitsize=True, border=2, dark="#000", light="#fff"
    )
    return {
        "item": item,
        "svg": svg,
        "short_code": qr.short_code(item.pk),
        "expires_in": qr.seconds_left(),
        "step_seconds": settings.ACTIVITIES_CLOCKIN_STEP_SECONDS,
        "code_url": reverse("portal:officer-code", args=[item.pk]),
    }


class OfficerCodePage(Page):
    """The rotating code full-screen; htmx swaps in the next code when it rotates."""

    template_name = "portal/officer/code.html"
    fragment_template = "portal/officer/_code.html"
    title = "打卡码"
    tab = "services"

    def get(self, request, item_id: int):
        return self.render({**_code_context(request, item_id), "back": "/m/officer/"})
