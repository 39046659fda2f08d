"""Demo data for meeting rooms: rooms in two buildings, a week of bookings and a weekly series."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from wechathhu.core.errors import ApplicationError

from . import services
from .models import Meetingroom, Reservation, ReservationSeries, SeriesFrequency

ROOMS = [
    # name, location, label, seats, equipment, bookable hours
    ("勤学楼A401", "勤学楼 4 楼", "研讨室", 8, "白板、电视", None),
    ("勤学楼A402", "勤学楼 4 楼", "研讨室", 12, "投影仪、白板", None),
    ("勤学楼A405", "勤学楼 4 楼", "会议室", 20, "投影仪、视频会议终端", None),
    ("勤学楼A501", "勤学楼 5 楼", "报告厅", 120, "投影仪、音响、录播", (time(8), time(22))),
    ("图书馆L201", "图书馆 2 楼", "研讨室", 6, "电视", (time(8), time(22))),
    ("图书馆L202", "图书馆 2 楼", "研讨室", 6, "白板", (time(8), time(22))),
    ("图书馆L301", "图书馆 3 楼", "会议室", 16, "投影仪", (time(8), time(21))),
]
PURPOSES = ["课题组组会", "研究生答辩", "教研室例会", "项目评审", "学术讲座", "本科生导师见面会", "论文讨论"]
SERIES_DESCRIPTION = "课题组周会（演示）"


def _rooms() -> list[Meetingroom]:
    rooms = []
    for name, location, label, seats, equipment, hours in ROOMS:
        room, _ = Meetingroom.objects.get_or_create(
            name=name,
            defaults={
                "location": location,
                "label": label,
                "seats_count": seats,
                "equipment": equipment,
                "bookable_from": hours[0] if hours else None,
                "bookable_to": hours[1] if hours else None,
            },
        )
        rooms.append(room)
    return rooms


def seed(out) -> list[str]:
    rooms = _rooms()
    teachers = list(User.objects.filter(username__startswith="T", is_active=True).order_by("username")[:12])
    if not teachers:
        return []
    rng = random.Random(20261201)
    today = timezone.localdate()
    booked = 0
    for offset in range(7):
        day = today + timedelta(days=offset)
        for room in rooms:
            for hour in (9, 14, 19):
                # Draw every random value first, so a second run makes the same choices.
                skip, minute, length = rng.random() < 0.45, rng.choice((0, 30)), rng.choice((60, 90, 120))
                booker, purpose = rng.choice(teachers), rng.choice(PURPOSES)
                start = timezone.make_aware(datetime.combine(day, time(hour, minute)))
                end = start + timedelta(minutes=length)
                if skip or Reservation.objects.filter(meetingroom=room, reserve_from=start).exists():
                    continue
                try:
                    services.reservation_create(
                        user=booker,
                        meetingroom=room,
                        reserve_from=start,
                        reserve_to=end,
                        description=purpose,
                        override_rules=True,  # demo data may start earlier today
                    )
                    booked += 1
                except ApplicationError:
                    continue  # outside the room's hours or overlapping: leave that one out
    organiser = teachers[0]
    if not ReservationSeries.objects.filter(user=organiser, description=SERIES_DESCRIPTION).exists():
        services.series_create(
            user=organiser,
            meetingroom=rooms[1],
            description=SERIES_DESCRIPTION,
            frequency=SeriesFrequency.WEEKLY,
            weekdays=[2, 4],
            start_date=today + timedelta(days=1),
            until=None,
            count=8,
            start_time=time(16, 0),
            end_time=time(17, 30),
            on_conflict=services.OnConflict.SKIP,
        )
    return [
        f"会议室：{len(rooms)} 间（勤学楼、图书馆），未来一周新增 {booked} 条预约，{organiser.full_name} 有一项每周二、四的重复预约。"
    ]
