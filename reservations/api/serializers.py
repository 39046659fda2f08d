"""Input and output shapes of the mini-program's meeting-room endpoints (original §2.3, §3)."""

import json
from datetime import UTC, datetime

from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from reservations.models import Meetingroom, Reservation, ReservationSeries, SeriesFrequency
from reservations.services import OnConflict

# --- Availability ------------------------------------------------------------------------------------


class AvailableMeetingroomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Meetingroom
        fields = ("id", "name", "seats_count")


class BookingInWindowSerializer(serializers.Serializer):
    time_range = serializers.ListField(child=serializers.CharField(), help_text="[开始, 结束]，UTC（Z）")
    reserve_user = serializers.CharField(help_text="预约者：工号-姓名")
    contact = serializers.CharField(
        allow_null=True, help_text="预约者手机号；按其通讯录隐私设置不可见或未填写时为 null"
    )
    description = serializers.CharField()


class RoomAvailabilitySerializer(serializers.Serializer):
    """One room of the client's availability view (C16, original §3.3)."""

    reservations = BookingInWindowSerializer(many=True)
    meetingroom = AvailableMeetingroomSerializer()


class RoomInfoSerializer(serializers.ModelSerializer):
    class Meta:
        model = Meetingroom
        fields = ("name", "location", "seats_count", "label", "description")


class RoomChoicesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    info = RoomInfoSerializer()
    choices = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()), help_text="可选时间段 [[开始, 结束], …]"
    )


class LocationChoicesSerializer(serializers.Serializer):
    """One location of seed 002's search (legacy shape, original §5a step 6)."""

    location = serializers.CharField()
    meetingrooms = RoomChoicesSerializer(many=True)


# --- Bookings ------------------------------------------------------------------------------------


class ReservationCreateSerializer(serializers.Serializer):
    """C17: ``{"reserve_from", "reserve_to", "description", "meetingroom_object"}``; seed 002 writes
    the room as ``meetingroom``, accepted as well (``meetingroom_object`` wins when both are sent)."""

    meetingroom_object = serializers.PrimaryKeyRelatedField(
        queryset=Meetingroom.objects.all(),
        required=False,
        help_text="会议室 ID（必填；也可写作 meetingroom）",
    )
    meetingroom = serializers.PrimaryKeyRelatedField(
        queryset=Meetingroom.objects.all(),
        required=False,
        write_only=True,
        help_text="meetingroom_object 的别名",
    )
    reserve_from = serializers.DateTimeField()
    reserve_to = serializers.DateTimeField()
    description = serializers.CharField(max_length=2000)

    def validate(self, attrs):
        room = attrs.pop("meetingroom_object", None) or attrs.pop("meetingroom", None)
        attrs.pop("meetingroom", None)
        if room is None:
            raise serializers.ValidationError(
                {"meetingroom_object": [self.fields["meetingroom_object"].error_messages["required"]]},
                code="required",
            )
        attrs["meetingroom_object"] = room
        return attrs


class ReservationMeetingroomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Meetingroom
        fields = ("id", "name", "location", "seats_count", "label")


class ReservationSerializer(serializers.ModelSerializer):
    """A booking as C17/C18 read it (times in local ``+08:00``)."""

    meetingroom = ReservationMeetingroomSerializer(read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Reservation
        fields = (
            "id",
            "user",
            "meetingroom",
            "reserve_from",
            "reserve_to",
            "description",
            "series",
            "created",
        )
        read_only_fields = fields


# --- Recurring bookings --------------------------------------------------------------------------


class SeriesCreateSerializer(serializers.Serializer):
    """A recurring booking: the same hours on each date of the rule."""

    meetingroom_object = serializers.PrimaryKeyRelatedField(queryset=Meetingroom.objects.all())
    description = serializers.CharField(max_length=2000)
    frequency = serializers.ChoiceField(choices=SeriesFrequency.choices, help_text="daily 每天 / weekly 每周")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        required=False,
        default=list,
        help_text="每周重复时的星期几，1=周一 … 7=周日",
    )
    start_date = serializers.DateField(help_text="首次日期（本地日期）")
    until = serializers.DateField(required=False, allow_null=True, default=None, help_text="截止日期（含）")
    count = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="次数（与 until 至少给出一个）"
    )
    start_time = serializers.TimeField(help_text="每次的开始时间（本地），如 14:00")
    end_time = serializers.TimeField(help_text="每次的结束时间（本地），如 15:30")
    on_conflict = serializers.ChoiceField(
        choices=OnConflict.CHOICES,
        default=OnConflict.ABORT,
        help_text="abort：有冲突日期则全部不预约（400 列出冲突日期）；skip：跳过冲突日期，预约其余日期",
    )
    dry_run = serializers.BooleanField(default=False, help_text="为 true 时只检查并返回计划，不预约")


class SeriesSerializer(serializers.ModelSerializer):
    meetingroom = ReservationMeetingroomSerializer(read_only=True)
    weekdays = serializers.ListField(source="weekday_list", child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = ReservationSeries
        fields = (
            "id",
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
        read_only_fields = fields


class OccurrenceSerializer(serializers.Serializer):
    date = serializers.DateField()
    reserve_from = serializers.DateTimeField()
    reserve_to = serializers.DateTimeField()
    conflict = serializers.BooleanField(help_text="该日期会议室已被占用")
    reservation = serializers.IntegerField(allow_null=True, help_text="预约成功时为预约记录 id")


class SeriesResultSerializer(serializers.Serializer):
    """The answer to a series request: every occurrence, and which dates clash."""

    series = SeriesSerializer(allow_null=True, help_text="dry_run 时为 null")
    occurrences = OccurrenceSerializer(many=True)
    conflicts = serializers.ListField(child=serializers.DateField(), help_text="冲突（未预约）的日期")

    @staticmethod
    def from_plan(plan):
        booked = {timezone.localtime(r.reserve_from).date(): r.pk for r in plan.booked}
        clashing = set(plan.conflicts)
        occurrences = []
        for start, end in plan.occurrences:
            day = timezone.localtime(start).date()
            occurrences.append(
                {
                    "date": day,
                    "reserve_from": start,
                    "reserve_to": end,
                    "conflict": day in clashing,
                    "reservation": booked.get(day),
                }
            )
        return {"series": plan.series, "occurrences": occurrences, "conflicts": plan.conflicts}


class SeriesDetailSerializer(SeriesSerializer):
    occurrences = ReservationSerializer(many=True, read_only=True, source="upcoming_occurrences")

    class Meta(SeriesSerializer.Meta):
        fields = (*SeriesSerializer.Meta.fields, "occurrences")
        read_only_fields = fields


class SeriesCancelSerializer(serializers.Serializer):
    from_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="只取消此日期（含）以后的各次；缺省为全部未结束的",
    )


# --- Availability output (plain data: hundreds of rooms and thousands of slots, built directly) -----


def room_bookings_data(rooms) -> list[dict]:
    """The client's view (§3.3): each room with the bookings meeting the window."""
    text = {}  # bookings share their times (the grid): each is formatted once

    def utc(ts: int) -> str:
        value = text.get(ts)
        if value is None:
            value = text[ts] = datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
        return value

    return [
        {
            "reservations": [
                {
                    "time_range": [utc(r.start), utc(r.end)],
                    "reserve_user": User.label(r.booker_number, r.booker_last_name, r.booker_first_name),
                    "contact": r.contact or None,
                    "description": r.description,
                }
                for r in room.reservations
            ],
            "meetingroom": {
                "id": room.meetingroom.id,
                "name": room.meetingroom.name,
                "seats_count": room.meetingroom.seats_count,
            },
        }
        for room in rooms
    ]


def search_json(result, *, tz) -> bytes:
    """Seed 002's search in the legacy shape (§5a step 6) as UTF-8 JSON, times in the zone ``tz``.

    Built from fragments rather than through the renderer: a week over 500 rooms is ~170 000
    slots (~6 MB), but every slot starts on one of the window's few hundred grid points, so each
    point's ``["from","to"]`` text is formatted once, a free run is a slice of those texts, and the
    answer is one join of byte strings.
    """
    grid, length = result.grid, result.length
    last_point = max(
        (run[1] - length for _, rooms in result.groups for room in rooms for run in room.runs),
        default=result.origin - grid,
    )
    slot_texts = [
        _dumps(
            [datetime.fromtimestamp(ts, tz).isoformat(), datetime.fromtimestamp(ts + length, tz).isoformat()]
        )
        for ts in range(result.origin, last_point + 1, grid)
    ]
    run_texts: dict[tuple[int, int], bytes] = {}  # rooms share free runs (a whole free day …)
    parts = [b"["]
    for g, (location, rooms) in enumerate(result.groups):
        parts.append(b'%s{"location":%s,"meetingrooms":[' % (b"," if g else b"", _dumps(location)))
        for r, room in enumerate(rooms):
            meetingroom = room.meetingroom
            parts.append(
                b'%s{"id":%d,"info":%s,"choices":['
                % (b"," if r else b"", meetingroom.id, _dumps(_room_info(meetingroom)))
            )
            for k, run in enumerate(room.runs):
                text = run_texts.get(run)
                if text is None:
                    text = run_texts[run] = b",".join(slot_texts[result.slot_indexes(run)])
                if k:
                    parts.append(b",")
                parts.append(text)
            parts.append(b"]}")
        parts.append(b"]}")
    parts.append(b"]")
    return b"".join(parts)


def _room_info(room) -> dict:
    return {
        "name": room.name,
        "location": room.location,
        "seats_count": room.seats_count,
        "label": room.label,
        "description": room.description,
    }


def _dumps(value) -> bytes:
    """As DRF's ``JSONRenderer`` writes it: compact UTF-8, U+2028/U+2029 escaped for JavaScript."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
