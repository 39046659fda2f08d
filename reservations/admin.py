"""Admin for meeting rooms and bookings: 冲突查询 (conflict lookup) and a calendar.

Every booking written here goes through ``reservations.services``: the room is locked while the
form is validated, and Django's admin runs validation and saving in one transaction, so the
lock holds until the booking is saved and no overlap can slip in between.
"""

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _

from wechathhu.api.fields import EARLIEST_YEAR, LATEST_YEAR
from wechathhu.core.errors import ApplicationError

from . import calendar, selectors, services
from .models import Meetingroom, Reservation, ReservationSeries


def _calendar_day(request):
    """The calendar's day from ``?date=``; an impossible or far-off date shows today, saying why."""
    raw = request.GET.get("date", "") or ""
    try:
        day = parse_date(raw[:10]) if len(raw) <= 10 else None
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        day = None
    if day is not None and EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        return day
    if raw:
        messages.error(
            request,
            f"日期不合法（{raw[:20]}），请使用 {EARLIEST_YEAR}–{LATEST_YEAR} 年间的日期；已显示今天。",
        )
    return timezone.localdate()


@admin.register(Meetingroom)
class MeetingroomAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "label", "seats_count", "equipment", "bookable_hours", "is_active")
    list_filter = ("is_active", "label", "location")
    search_fields = ("name", "location", "label")
    ordering = ("location", "name")
    fieldsets = (
        (None, {"fields": ("name", "location", "label", "seats_count", "equipment", "description")}),
        (_("预约"), {"fields": ("is_active", "bookable_from", "bookable_to")}),
    )

    @admin.display(description=_("可预约时段"))
    def bookable_hours(self, obj):
        if not obj.has_bookable_hours:
            return _("全天")
        return f"{obj.bookable_from:%H:%M}–{obj.bookable_to:%H:%M}"


class ReservationAdminForm(forms.ModelForm):
    override_rules = forms.BooleanField(
        label=_("不受预约规则限制"),
        required=False,
        help_text=_("忽略时长、提前期限、可预约时段和过去时间的限制；时间段仍不得与其他预约重叠。"),
    )

    class Meta:
        model = Reservation
        fields = ("meetingroom", "user", "reserve_from", "reserve_to", "description")

    def clean(self):
        cleaned = super().clean()
        room, start, end = cleaned.get("meetingroom"), cleaned.get("reserve_from"), cleaned.get("reserve_to")
        if room is None or start is None or end is None:
            return cleaned
        try:
            # Takes the room lock, held by the admin's transaction until the booking is saved.
            services.reservation_check_available(
                meetingroom_id=room.pk,
                reserve_from=start,
                reserve_to=end,
                exclude_id=self.instance.pk,
                override_rules=cleaned.get("override_rules", False),
            )
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc
        return cleaned


class ClashFilter(admin.SimpleListFilter):
    """Bookings overlapping another booking of their room (the admin home links here)."""

    title = _("冲突")
    parameter_name = "clash"

    def lookups(self, request, model_admin):
        return (("yes", _("与同一会议室的其他预约重叠")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.reservation_clashes())
        return queryset


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    form = ReservationAdminForm
    list_display = (
        "meetingroom",
        "reserve_from",
        "reserve_to",
        "booker",
        "booker_phone",
        "description",
        "series",
    )
    # No date_hierarchy: on MySQL it needs the server's time-zone tables (CONVERT_TZ).
    list_filter = ("reserve_from", ClashFilter, "meetingroom__location", "meetingroom")
    list_select_related = ("meetingroom", "user", "series")
    search_fields = (
        "meetingroom__name",
        "user__username",
        "user__last_name",
        "user__first_name",
        "description",
    )
    search_help_text = _("按会议室、预约者工号/姓名或预约原因查找")
    autocomplete_fields = ("meetingroom", "user")
    ordering = ("-reserve_from",)
    fields = ("meetingroom", "user", "reserve_from", "reserve_to", "description", "override_rules")

    @admin.display(description=_("预约者"), ordering="user__last_name")
    def booker(self, obj):
        return f"{obj.user.full_name}（{obj.user.username}）"

    @admin.display(description=_("手机"))
    def booker_phone(self, obj):
        return obj.user.phone or "-"

    def get_changeform_initial_data(self, request):
        """The calendar's selection arrives as ``?meetingroom=&reserve_from=&reserve_to=`` (ISO)."""
        initial = super().get_changeform_initial_data(request)
        for name in ("reserve_from", "reserve_to"):
            value = parse_datetime(request.GET.get(name, ""))
            initial[name] = timezone.localtime(value) if value and timezone.is_aware(value) else None
        initial.setdefault("user", request.user.pk)
        return {key: value for key, value in initial.items() if value is not None}

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {
            "meetingroom": data["meetingroom"],
            "reserve_from": data["reserve_from"],
            "reserve_to": data["reserve_to"],
            "description": data["description"],
            "override_rules": data.get("override_rules", False),
        }
        if change:
            services.reservation_update(reservation=obj, user=data["user"], notify_by=request.user, **values)
        else:
            saved = services.reservation_create(user=data["user"], **values)
            obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def delete_model(self, request, obj):
        services.reservation_cancel(reservation=obj, by=request.user, notify=True)

    def delete_queryset(self, request, queryset):
        for reservation in queryset.select_related("meetingroom"):
            services.reservation_cancel(reservation=reservation, by=request.user, notify=True)

    def response_add(self, request, obj, post_url_continue=None):
        return self._back_to_calendar(request) or super().response_add(request, obj, post_url_continue)

    def _back_to_calendar(self, request):
        target = request.GET.get("next", "")
        stays = "_continue" in request.POST or "_addanother" in request.POST
        if (
            target
            and not stays
            and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        ):
            return HttpResponseRedirect(target)
        return None

    def get_urls(self):
        extra = [
            path(
                "conflicts/", self.admin_site.admin_view(self.conflicts_view), name="reservations_conflicts"
            ),
            path("calendar/", self.admin_site.admin_view(self.calendar_view), name="reservations_calendar"),
        ]
        return extra + super().get_urls()

    # --- 冲突查询 -----------------------------------------------------------------------------

    def conflicts_view(self, request):
        """Every booking overlapping a span (optionally in some rooms or a location), with the
        booker's name and phone and links to change or cancel it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ConflictLookupForm(request.GET or None)
        page = None
        if form.is_valid():
            data = form.cleaned_data
            bookings = selectors.reservation_list_in_span(
                start=data["start"],
                end=data["end"],
                room_ids=[room.pk for room in data["rooms"]],
                location=data["location"],
            )
            page = Paginator(bookings, 100).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("冲突查询"),
            "form": form,
            "page": page,
            "query": urlencode([(k, v) for k, v in request.GET.lists() if k != "page" for v in v]),
            "can_change": self.has_change_permission(request),
            "can_delete": self.has_delete_permission(request),
        }
        return TemplateResponse(request, "admin/reservations/conflicts.html", context)

    # --- 日历 ------------------------------------------------------------------------------------

    def calendar_view(self, request):
        """Bookings by day (rooms side by side), week (one room) or month; staff select free cells
        of one column to book them through the add form."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        view = request.GET.get("view") if request.GET.get("view") in calendar.VIEWS else "day"
        day = _calendar_day(request)
        rooms = list(selectors.meetingroom_list(active_only=False, location=request.GET.get("location", "")))
        room = next((r for r in rooms if str(r.pk) == request.GET.get("room")), None)
        shown = [room] if room else rooms
        start, end = calendar.span_of(view, day)
        bookings = []
        if shown:
            room_ids = [r.pk for r in shown]
            bookings = list(selectors.reservation_list_in_span(start=start, end=end, room_ids=room_ids))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("预约日历"),
            "view": view,
            "day": day,
            "rooms": rooms,
            "room": room,
            "location": request.GET.get("location", ""),
            "previous_day": calendar.step_day(view, day, -1),
            "next_day": calendar.step_day(view, day, +1),
            "today": timezone.localdate(),
            "can_add": self.has_add_permission(request),
            "add_url": reverse("admin:reservations_reservation_add"),
            "views": (("day", _("日")), ("week", _("周")), ("month", _("月"))),
        }
        if view == "month":
            context["weeks"] = calendar.month_weeks(day, bookings)
        elif view == "week" and room is None:
            context["week"] = [
                (d, [b for b in bookings if _meets_day(b, d)]) for d in calendar.week_days(day)
            ]
        else:
            columns = calendar.day_columns(shown, day) if view == "day" else calendar.week_columns(room, day)
            context["columns"] = columns
            context["rows"] = calendar.time_grid(columns, bookings) if columns else []
        return TemplateResponse(request, "admin/reservations/calendar.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "calendar_url": reverse("admin:reservations_calendar"),
            "conflicts_url": reverse("admin:reservations_conflicts"),
        }
        return super().changelist_view(request, extra_context)


def _meets_day(booking: Reservation, day: date) -> bool:
    start, end = calendar.span_of("day", day)
    return booking.reserve_from < end and booking.reserve_to > start


class ConflictLookupForm(forms.Form):
    start = forms.DateTimeField(
        label=_("开始"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    end = forms.DateTimeField(
        label=_("结束"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    rooms = forms.ModelMultipleChoiceField(
        label=_("会议室"),
        queryset=Meetingroom.objects.order_by("location", "name"),
        required=False,
        help_text=_("不选则为全部会议室"),
    )
    location = forms.CharField(label=_("位置"), required=False, max_length=128)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            try:
                selectors.search_window_check(start=start, end=end)
            except ApplicationError as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return cleaned


@admin.register(ReservationSeries)
class ReservationSeriesAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "frequency", "start_date", "until", "count")
    list_select_related = ("meetingroom", "user")
    list_filter = ("frequency", "meetingroom")
    search_fields = ("meetingroom__name", "user__username", "user__last_name", "description")
    readonly_fields = (
        "user",
        "meetingroom",
        "description",
        "frequency",
        "weekdays",
        "start_date",
        "until",
        "count",
        "start_time",
        "end_time",
    )
    actions = ("cancel_upcoming",)

    def has_add_permission(self, request):
        return False  # series are booked through the API (occurrence checks and conflict report)

    @admin.action(description=_("取消所选重复预约中未结束的各次"))
    def cancel_upcoming(self, request, queryset):
        cancelled = sum(services.series_cancel(series=series) for series in queryset)
        self.message_user(request, f"已取消 {cancelled} 次预约。", messages.SUCCESS)
