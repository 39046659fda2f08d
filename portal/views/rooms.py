"""会议室: the day grid of a location's rooms, the free-slot search by length (seed 002's forms),
booking, my bookings and cancelling — through the API's selectors and services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode

from accounts.privacy import ContactVisibility
from reservations import selectors, services
from reservations.models import Meetingroom, SeriesFrequency

from .base import Page, PortalError, not_found_as_404, paginate, redirect_back, service_errors

SLOTS_SHOWN_PER_ROOM = 12
ROOMS_PER_SEARCH_PAGE = 10


def _local(day, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def _length_choices():
    low, high = settings.RESERVATION_MIN_MINUTES, settings.RESERVATION_MAX_MINUTES
    grid = settings.RESERVATION_GRID_MINUTES
    minutes = range(max(grid, low - low % grid), high + 1, grid)
    return [("", "不限（整个时段都空闲）")] + [(str(m), _duration_text(m)) for m in minutes if m >= low]


def _duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} 分钟"
    return f"{hours} 小时" + (f" {rest} 分钟" if rest else "")


class DayForm(forms.Form):
    date = forms.DateField(
        label="日期", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    location = forms.ChoiceField(label="位置", required=False)

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day is not None and not 1900 <= day.year <= 9998:
            raise forms.ValidationError("日期超出范围。")
        return day

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [(loc, loc or "（未填写位置）") for loc in locations]


class SearchForm(forms.Form):
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time_from = forms.TimeField(
        label="最早开始", widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M")
    )
    time_to = forms.TimeField(
        label="最晚结束", widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M")
    )
    length = forms.TypedChoiceField(
        label="会议时长",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="选择时长时，列出时段内所有够长的空闲时间；不选则只列出整个时段都空闲的会议室。",
    )
    people_count = forms.IntegerField(label="开会人数", required=False, min_value=0, max_value=100000)
    label = forms.CharField(label="会议室类型", required=False, max_length=32)
    location = forms.CharField(label="位置", required=False, max_length=128)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["length"].choices = _length_choices()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["start"] = _local(data["date"], data["time_from"])
            # 00:00 as the end means midnight at the end of the day.
            end_day = data["date"] + timedelta(days=1) if data["time_to"] == time(0) else data["date"]
            data["end"] = _local(end_day, data["time_to"])
            data["start"].timestamp(), data["end"].timestamp()  # noqa: B018 - representable in UTC?
        except (OverflowError, ValueError):
            raise forms.ValidationError("日期超出范围。")
        return data


class BookForm(forms.Form):
    room = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**62)
    start = forms.CharField(widget=forms.HiddenInput, max_length=40)
    end = forms.CharField(widget=forms.HiddenInput, max_length=40)
    description = forms.CharField(
        label="会议主题", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="如 课题组例会"
    )

    def _time(self, name):
        value = self.cleaned_data[name]
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError("时间格式不正确，请重新选择时段。")
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)

    def clean_start(self):
        return self._time("start")

    def clean_end(self):
        return self._time("end")


@dataclass
class Cell:
    start: datetime
    end: datetime
    state: str  # free, busy, mine, past
    label: str
    href: str = ""  # the booking form for a free cell


class RoomsDayPage(Page):
    """The day grid of one location's rooms (the client's availability view, per location)."""

    template_name = "portal/rooms/day.html"
    title = "会议室"
    tab = "services"

    def get(self, request):
        locations = selectors.meetingroom_location_list()
        form = DayForm(request.GET or None, locations=locations)
        day, location = timezone.localdate(), (locations[0] if locations else "")
        if form.is_bound:
            if not form.is_valid():
                return self.invalid({"form": form, "rows": [], "back": "/m/services/"})
            day = form.cleaned_data["date"] or day
            location = form.cleaned_data["location"] if "location" in request.GET else location
        start_hour, end_hour = (
            settings.RESERVATION_CALENDAR_START_HOUR,
            settings.RESERVATION_CALENDAR_END_HOUR,
        )
        start, end = _local(day, time(0)), _local(day + timedelta(days=1), time(0))
        if not form.is_bound or not request.GET.get("date"):
            form = DayForm(initial={"date": day, "location": location}, locations=locations)
        rows = []
        if locations:
            rooms = selectors.meetingroom_bookings(
                start=start, end=end, visibility=ContactVisibility(request.user), location=location
            )
            rows = rooms
        grid = settings.RESERVATION_GRID_MINUTES
        slots = [
            _local(day, time(0)) + timedelta(minutes=m) for m in range(start_hour * 60, end_hour * 60, grid)
        ]
        now = timezone.now()
        tz = timezone.get_current_timezone()
        table = [
            {
                "room": row.meetingroom,
                "cells": self._cells(row, slots, grid, now, request.user, reverse("portal:room-book")),
                "bookings": [
                    {
                        "when": f"{datetime.fromtimestamp(b.start, tz):%H:%M}–{datetime.fromtimestamp(b.end, tz):%H:%M}",
                        "who": f"{b.booker_last_name}{b.booker_first_name}",
                        "description": b.description,
                        "contact": b.contact,
                    }
                    for b in row.reservations
                ],
            }
            for row in rows
        ]
        return self.render(
            {
                "form": form,
                "day": day,
                "location": location,
                "locations": locations,
                "slots": slots,
                "table": table,
                "prev_day": (day - timedelta(days=1)).isoformat(),
                "next_day": (day + timedelta(days=1)).isoformat(),
                "back": "/m/services/",
            }
        )

    @staticmethod
    def _cells(row, slots, grid, now, user, book_url) -> list[Cell]:
        """One cell per grid step: built here, once, rather than by the template per cell (a
        location's day is a few hundred cells)."""
        cells = []
        for slot in slots:
            ts, end = slot.timestamp(), slot + timedelta(minutes=grid)
            booking = next((b for b in row.reservations if b.start < end.timestamp() and b.end > ts), None)
            if booking is not None:
                mine = booking.booker_number == user.username
                who = f"{booking.booker_last_name}{booking.booker_first_name}"
                label = f"{slot:%H:%M} " + ("我的预约" if mine else f"{who}已预约")
                cells.append(Cell(slot, end, "mine" if mine else "busy", label))
            elif end <= now:
                cells.append(Cell(slot, end, "past", f"{slot:%H:%M} 已过去"))
            else:
                query = urlencode(
                    {"room": row.meetingroom.id, "start": slot.isoformat(), "end": end.isoformat()}
                )
                cells.append(Cell(slot, end, "free", f"{slot:%H:%M} 空闲，点按预约", f"{book_url}?{query}"))
        return cells


class RoomsSearchPage(Page):
    """Seed 002's search: rooms free for a whole window, or free slots of a length."""

    template_name = "portal/rooms/search.html"
    title = "找会议室"
    tab = "services"

    def get(self, request):
        today = timezone.localdate()
        if not request.GET:
            form = SearchForm(
                initial={"date": today, "time_from": time(9, 0), "time_to": time(18, 0), "length": 60}
            )
            return self.render({"form": form, "back": "/m/rooms/"})
        form = SearchForm(request.GET)
        context = {"form": form, "back": "/m/rooms/"}
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        try:
            with service_errors(form):
                selectors.search_window_check(start=data["start"], end=data["end"])
                length = selectors.search_length_check(minutes=data["length"])
                selectors.search_end_check(end=data["end"])
                result = selectors.meetingroom_search(
                    start=data["start"],
                    end=data["end"],
                    length=length,
                    people_count=data["people_count"] or 0,
                    label=data["label"].strip(),
                    location=data["location"].strip(),
                )
        except PortalError:
            return self.invalid(context)
        # Results a page at a time (a whole day over every room is thousands of slots): the
        # rooms in the selector's order, grouped by location again on each page.
        flat = [(location, room) for location, rooms in result.groups for room in rooms]
        page_obj = paginate(request, flat, per_page=ROOMS_PER_SEARCH_PAGE)
        groups = []
        book_url = reverse("portal:room-book")
        for location, room in page_obj.object_list:
            if not groups or groups[-1]["location"] != location:
                groups.append({"location": location, "rooms": []})
            choices = result.choices(room)
            groups[-1]["rooms"].append(
                {
                    "room": room.meetingroom,
                    "slots": [
                        self._slot(book_url, room.meetingroom.id, a, b)
                        for a, b in choices[:SLOTS_SHOWN_PER_ROOM]
                    ],
                    "more": max(len(choices) - SLOTS_SHOWN_PER_ROOM, 0),
                }
            )
        context["page_obj"] = page_obj
        context.update(groups=groups, searched=True, length=length)
        return self.render(context)

    @staticmethod
    def _slot(book_url: str, room_id: int, start_ts: int, end_ts: int) -> dict:
        """A free slot as the page links it: its times written here once, not by a template
        filter per use (a page shows up to a few hundred slots; the filters' locale lookups were
        most of the page's time)."""
        tz = timezone.get_current_timezone()
        start, end = datetime.fromtimestamp(start_ts, tz), datetime.fromtimestamp(end_ts, tz)
        query = urlencode({"room": room_id, "start": start.isoformat(), "end": end.isoformat()})
        return {"from": f"{start:%H:%M}", "to": f"{end:%H:%M}", "url": f"{book_url}?{query}"}


class RoomBookPage(Page):
    template_name = "portal/rooms/book.html"
    title = "预约会议室"
    tab = "services"

    def _room(self, room_id) -> Meetingroom | None:
        """Any room, as the API takes it: whether it may be booked is the service's decision."""
        return Meetingroom.objects.filter(pk=room_id).first() if room_id else None

    def get(self, request):
        form = BookForm(initial=request.GET.dict())
        probe = BookForm({**request.GET.dict(), "description": "-"})
        if not probe.is_valid():
            flash.warning(request, "请先选择会议室和时段。")
            return redirect("portal:rooms-search")
        room = self._room(probe.cleaned_data["room"])
        if room is None:
            flash.warning(request, "该会议室不存在或已停止预约。")
            return redirect("portal:rooms-search")
        return self.render(
            {
                "form": form,
                "room": room,
                "start": probe.cleaned_data["start"],
                "end": probe.cleaned_data["end"],
                "back": "/m/rooms/search/",
            }
        )

    def post(self, request):
        form = BookForm(request.POST)
        context = {"form": form, "back": "/m/rooms/search/"}
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        room = self._room(data["room"])
        context.update(room=room, start=data["start"], end=data["end"])
        if room is None:
            form.add_error(None, "该会议室不存在或已停止预约。")
            return self.invalid(context)
        try:
            with service_errors(form):
                services.reservation_create(
                    user=request.user,
                    meetingroom=room,
                    reserve_from=data["start"],
                    reserve_to=data["end"],
                    description=data["description"],
                )
        except PortalError:
            return self.invalid(context)
        flash.success(
            request,
            f"已预约 {room.name}，{timezone.localtime(data['start']):%m月%d日 %H:%M}–{timezone.localtime(data['end']):%H:%M}。",
        )
        return redirect("portal:my-bookings")


class MyBookingsPage(Page):
    template_name = "portal/rooms/mine.html"
    title = "我的预约"
    tab = "services"

    def get(self, request):
        page_obj = paginate(request, selectors.reservation_list_upcoming(user=request.user))
        return self.render({"page_obj": page_obj, "back": "/m/rooms/"})


class BookingCancelPage(Page):
    def post(self, request, pk: int):
        with not_found_as_404():
            reservation = selectors.reservation_get_for_user(user=request.user, reservation_id=pk)
        services.reservation_cancel(reservation=reservation, by=request.user)
        flash.success(request, f"已取消 {reservation.meetingroom.name} 的预约。")
        return redirect_back(request, reverse("portal:my-bookings"))


# --- 重复预约 (recurring bookings) ------------------------------------------------------------------

WEEKDAY_CHOICES = [(1, "周一"), (2, "周二"), (3, "周三"), (4, "周四"), (5, "周五"), (6, "周六"), (7, "周日")]


class SeriesForm(forms.Form):
    room = forms.TypedChoiceField(label="会议室", coerce=int)
    description = forms.CharField(
        label="会议主题",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如 课题组周例会",
    )
    frequency = forms.ChoiceField(
        label="重复方式",
        choices=SeriesFrequency.choices,
        initial=SeriesFrequency.WEEKLY,
        widget=forms.RadioSelect,
    )
    weekdays = forms.TypedMultipleChoiceField(
        label="每周的哪几天",
        coerce=int,
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="每周重复时选择",
    )
    start_time = forms.TimeField(
        label="开始时间", widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label="结束时间", widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M")
    )
    start_date = forms.DateField(
        label="首次日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label="截止日期（含）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="截止日期和次数至少填一项",
    )
    count = forms.IntegerField(label="或共几次", required=False, min_value=1, max_value=10000)
    on_conflict = forms.ChoiceField(
        label="遇到已被占用的日期",
        choices=[
            (services.OnConflict.ABORT, "先不预约，告诉我哪些日期冲突"),
            (services.OnConflict.SKIP, "跳过这些日期，预约其余日期"),
        ],
        initial=services.OnConflict.ABORT,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, rooms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rooms = {room.pk: room for room in rooms}
        self.fields["room"].choices = [
            (room.pk, f"{room.name}（{room.location or '未填写位置'}，{room.seats_count} 座）")
            for room in rooms
        ]

    def _day(self, name):
        day = self.cleaned_data[name]
        if day is not None and not 1900 <= day.year <= 9998:
            raise forms.ValidationError("日期超出范围。")
        return day

    def clean_start_date(self):
        return self._day("start_date")

    def clean_until(self):
        return self._day("until")


def _series_rooms():
    return list(selectors.meetingroom_list())


class SeriesListPage(Page):
    template_name = "portal/rooms/series_list.html"
    title = "重复预约"
    tab = "services"

    def get(self, request):
        page_obj = paginate(request, selectors.series_list_for_user(user=request.user))
        return self.render({"page_obj": page_obj, "back": "/m/rooms/mine/"})


class SeriesNewPage(Page):
    template_name = "portal/rooms/series_new.html"
    title = "新建重复预约"
    tab = "services"

    def get(self, request):
        rooms = _series_rooms()
        raw = request.GET.get("room", "")
        initial = {"start_date": timezone.localdate() + timedelta(days=1), "weekdays": []}
        if raw.isdigit() and len(raw) < 19 and int(raw) in {room.pk for room in rooms}:
            initial["room"] = int(raw)
        form = SeriesForm(initial=initial, rooms=rooms)
        return self.render({"form": form, "back": "/m/rooms/series/"})

    def post(self, request):
        form = SeriesForm(request.POST, rooms=_series_rooms())
        context = {"form": form, "back": "/m/rooms/series/"}
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        try:
            with service_errors(form):
                plan = services.series_create(
                    user=request.user,
                    meetingroom=form.rooms[data["room"]],
                    description=data["description"],
                    frequency=data["frequency"],
                    weekdays=data["weekdays"],
                    start_date=data["start_date"],
                    until=data["until"],
                    count=data["count"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    on_conflict=data["on_conflict"],
                )
        except PortalError:
            return self.invalid(context)
        skipped = f"，跳过了 {len(plan.conflicts)} 个已被占用的日期" if plan.conflicts else ""
        flash.success(request, f"已预约 {len(plan.booked)} 次{skipped}。")
        return redirect("portal:series", pk=plan.series.pk)


class SeriesPage(Page):
    """One of my series with its occurrences still to come; POST cancels them (from a date on)."""

    template_name = "portal/rooms/series.html"
    title = "重复预约"
    tab = "services"

    def _series(self, request, pk: int):
        with not_found_as_404():
            return selectors.series_get_for_user(user=request.user, series_id=pk)

    def get(self, request, pk: int):
        series = self._series(request, pk)
        occurrences = list(selectors.series_upcoming_occurrences(series=series)[:200])
        return self.render({"series": series, "occurrences": occurrences, "back": "/m/rooms/series/"})

    def post(self, request, pk: int):
        series = self._series(request, pk)
        raw = request.POST.get("from_date", "")
        form = SeriesCancelForm(request.POST)
        from_date = form.cleaned_data["from_date"] if form.is_valid() else None
        if raw and from_date is None:
            flash.error(request, "日期不正确，没有取消任何一次。")
            return redirect("portal:series", pk=pk)
        cancelled = services.series_cancel(series=series, from_date=from_date)
        if cancelled:
            flash.success(request, f"已取消 {cancelled} 次预约。")
        else:
            flash.info(request, "没有可以取消的预约。")
        return redirect("portal:series", pk=pk)


class SeriesCancelForm(forms.Form):
    from_date = forms.DateField(required=False)

    def clean_from_date(self):
        day = self.cleaned_data["from_date"]
        if day is not None and not 1900 <= day.year <= 9998:
            raise forms.ValidationError("日期超出范围。")
        return day
