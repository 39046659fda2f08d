"""Writes for activities: enrollment under a row lock, the waiting list, clock-ins.

Locking rule: every change to who holds a place in an activity (enroll, un-enroll, promote,
capacity change) locks the activity row first (``select_for_update``), so the count of places
is exact with any number of web workers.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from messaging.services import message_send
from wechathhu.core.errors import NON_FIELD_ERRORS, ApplicationError, NotFoundError

from . import form_schema, qr
from .errors import NOT_IN_AUDIENCE_CODE
from .errors import ActivitiesErrorCode as Code
from .models import (
    Activity,
    ClockinItem,
    ClockinRecord,
    ClockinSource,
    Enrollment,
    EnrollmentStatus,
)

NOT_OPEN = "报名通道暂未开启。"
ENDED = "该活动已结束，无法继续报名。"
DEADLINE_PASSED = "报名已截止，无法继续报名。"
FULL = "报名人数已经达到上限，无法继续报名。"
NOT_IN_AUDIENCE = "无效主键 “{pk}” － 对象不存在。"  # DRF's own words for an unknown activity
DUPLICATE_ENROLLMENT = "你已经报名过该活动。"
CANCEL_AFTER_START = "活动已开始，无法取消报名。"

QR_INVALID = "打卡二维码异常或已过期，请重试。"
QR_EXPIRED = "打卡二维码已过期，请重试。"
OUT_OF_WINDOW = "打卡时间不在指定的时间范围内。"
NOT_ENROLLED = "您尚未报名该活动，无法进行本次打卡。"
ON_WAITING_LIST = "您在候补名单中，尚未获得参加名额，无法进行本次打卡。"
DUPLICATE_CLOCKIN = "已存在该打卡记录。"
logger = logging.getLogger(__name__)

LOCATION_REQUIRED = "该活动要求在活动地点打卡，请允许小程序获取位置后重试。"
LOCATION_INVALID = "位置信息不合法。"


def _lock_activity(activity_id: int) -> Activity:
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFoundError("该活动不存在。")
    return activity


def _enrolled_count(activity: Activity) -> int:
    return Enrollment.objects.filter(activity=activity, status=EnrollmentStatus.ENROLLED).count()


def _has_room(activity: Activity) -> bool:
    limit = activity.participants_total_limit
    return limit is None or _enrolled_count(activity) < limit


def _check_open(activity: Activity, *, user, now) -> None:
    from .selectors import activity_audience_q

    # An activity outside the caller's audience is answered as if it did not exist (as its detail
    # page is a 404): first, before any message that would reveal it.
    if not Activity.objects.filter(activity_audience_q(user), pk=activity.pk).exists():
        raise ApplicationError(
            NOT_IN_AUDIENCE.format(pk=activity.pk), field="activity", code=NOT_IN_AUDIENCE_CODE
        )
    if not activity.open_for_enrollment or (activity.enroll_from and now < activity.enroll_from):
        raise ApplicationError(NOT_OPEN, field="activity", code=Code.NOT_OPEN)
    if now > activity.time_end:
        raise ApplicationError(ENDED, field="activity", code=Code.ENDED)
    if activity.enroll_until and now > activity.enroll_until:
        raise ApplicationError(DEADLINE_PASSED, field="activity", code=Code.DEADLINE_PASSED)


@transaction.atomic
def enrollment_create(
    *, user, activity: Activity, participating_metas, join_waiting_list: bool = False
) -> Enrollment:
    """Enroll ``user`` in ``activity`` with the form answers ``participating_metas``.

    Checks, in the original's order: the activity is open (errors under ``activity``), no earlier
    enrollment and the answers against the form (errors about the input as a whole), then the
    capacity, counted under the activity's row lock. When the activity is full and has a waiting
    list, ``join_waiting_list=True`` puts the person on it instead of refusing.
    """
    now = timezone.now()
    # The answers are checked before the lock is taken (no parsing while others wait on the
    # activity), and their verdict given in the original's order, after the activity's own checks.
    form_metas = activity.form_metas
    answers, form_error = _answers_checked(form_metas, participating_metas)
    activity = _lock_activity(activity.pk)
    _check_open(activity, user=user, now=now)
    if Enrollment.objects.filter(activity=activity, user=user).exists():
        raise ApplicationError(DUPLICATE_ENROLLMENT, field=NON_FIELD_ERRORS, code=Code.ALREADY_ENROLLED)
    if activity.form_metas != form_metas:  # the form changed meanwhile (rare): check against it
        answers, form_error = _answers_checked(activity.form_metas, participating_metas)
    if form_error is not None:
        raise ApplicationError(
            form_error.messages[0], field=NON_FIELD_ERRORS, code=Code.FORM_INVALID
        ) from form_error
    status = EnrollmentStatus.ENROLLED
    if not _has_room(activity):
        if not (join_waiting_list and activity.waiting_list_enabled):
            raise ApplicationError(FULL, field=NON_FIELD_ERRORS, code=Code.FULL)
        status = EnrollmentStatus.WAITING
    enrollment = Enrollment(
        activity=activity, user=user, status=status, participating_metas=form_schema.dumps(answers)
    )
    enrollment.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:  # the same person's concurrent second request
        raise ApplicationError(DUPLICATE_ENROLLMENT, field=NON_FIELD_ERRORS, code=Code.ALREADY_ENROLLED)
    return enrollment


def _answers_checked(form_metas: str, participating_metas) -> tuple[dict | None, ValidationError | None]:
    """The cleaned answers against the form, or the error that refuses them."""
    try:
        schema = form_schema.form_schema_validate(form_metas)
        return form_schema.answers_validate(schema, form_schema.answers_parse(participating_metas)), None
    except ValidationError as exc:
        return None, exc


@transaction.atomic
def enrollment_create_by_staff(*, activity: Activity, user, participating_metas) -> Enrollment:
    """Staff add someone by hand: the form is still validated, the capacity still holds (an
    over-full activity puts them on the waiting list), but the enrollment window does not apply."""
    schema = form_schema.form_schema_validate(activity.form_metas)  # before the lock
    answers = form_schema.answers_validate(schema, form_schema.answers_parse(participating_metas))
    locked = _lock_activity(activity.pk)
    if locked.form_metas != activity.form_metas:
        answers = form_schema.answers_validate(
            form_schema.form_schema_validate(locked.form_metas),
            form_schema.answers_parse(participating_metas),
        )
    activity = locked
    if Enrollment.objects.filter(activity=activity, user=user).exists():
        raise ValidationError(DUPLICATE_ENROLLMENT)
    status = EnrollmentStatus.ENROLLED if _has_room(activity) else EnrollmentStatus.WAITING
    enrollment = Enrollment(
        activity=activity, user=user, status=status, participating_metas=form_schema.dumps(answers)
    )
    enrollment.full_clean()
    enrollment.save()
    return enrollment


@transaction.atomic
def enrollment_update_answers(*, enrollment: Enrollment, participating_metas) -> Enrollment:
    """Staff correct someone's answers; they are validated against the form like a new enrollment."""
    schema = form_schema.form_schema_validate(enrollment.activity.form_metas)
    answers = form_schema.answers_validate(schema, form_schema.answers_parse(participating_metas))
    enrollment.participating_metas = form_schema.dumps(answers)
    enrollment.full_clean(validate_unique=False, validate_constraints=False)
    enrollment.save(update_fields=["participating_metas", "updated_at"])
    return enrollment


def _promote_locked(activity: Activity) -> list[Enrollment]:
    """Fill free places from the waiting list, oldest first. The caller holds the activity lock."""
    limit = activity.participants_total_limit
    waiting = Enrollment.objects.filter(activity=activity, status=EnrollmentStatus.WAITING).order_by(
        "created_at", "id"
    )
    if limit is not None:
        free = limit - _enrolled_count(activity)
        if free <= 0:
            return []
        waiting = waiting[:free]
    promoted = list(waiting)
    if not promoted:
        return []
    now = timezone.now()
    Enrollment.objects.filter(pk__in=[e.pk for e in promoted]).update(
        status=EnrollmentStatus.ENROLLED, promoted_at=now, promotion_notified_at=now, updated_at=now
    )
    for enrollment in promoted:
        enrollment.status, enrollment.promoted_at, enrollment.promotion_notified_at = (
            EnrollmentStatus.ENROLLED,
            now,
            now,
        )
        _notify_promoted(activity=activity, user_id=enrollment.user_id)
    return promoted


def _notify_promoted(*, activity: Activity, user_id: int) -> None:
    """Tell a promoted person through the message center, in the promotion's transaction (the
    notice and the promotion are one write: both or neither; its push goes through the outbox)."""
    start = timezone.localtime(activity.time_start).strftime("%Y-%m-%d %H:%M")
    message_send(
        title=f"候补成功：{activity.name}",
        content=(
            f"您在「{activity.name}」的候补名单中已递补为正式报名。"
            f"活动时间：{start}，地点：{activity.location or '见活动详情'}。"
            "如不能参加，请在活动开始前取消报名，以便名额留给他人。"
        ),
        type="notification",
        priority="high",
        recipient_ids=[user_id],
    )


@transaction.atomic
def activity_save(*, activity: Activity) -> list[Enrollment]:
    """Create or change an activity (the admin fills the instance from its form).

    When the change leaves room (a higher limit or none), people on the waiting list are promoted
    in order and notified, in the same transaction. Returns the promoted enrollments.
    """
    activity.full_clean()
    activity.save()
    return enrollment_promote_waiting(activity=activity)


def enrollment_promote_waiting(*, activity: Activity) -> list[Enrollment]:
    """Promote waiting people while there is room (after a capacity change, for example)."""
    if timezone.now() >= activity.time_end:
        return []
    return _promote_locked(_lock_activity(activity.pk))


@transaction.atomic
def enrollment_cancel(*, enrollment: Enrollment, user) -> None:
    """The person withdraws. Closed once the activity has started (leaving the waiting list is
    always possible); a freed place goes to the first person on the waiting list (who is notified)."""
    if enrollment.user_id != user.pk:
        raise NotFoundError()
    activity = _lock_activity(enrollment.activity_id)
    holds_a_place = enrollment.status == EnrollmentStatus.ENROLLED
    if holds_a_place and timezone.now() >= activity.time_start:
        raise ApplicationError(CANCEL_AFTER_START, code=Code.CANCEL_AFTER_START)
    deleted, _ = Enrollment.objects.filter(pk=enrollment.pk).delete()
    if deleted and holds_a_place:
        _promote_locked(activity)


@transaction.atomic
def enrollment_delete_by_staff(*, enrollment: Enrollment) -> None:
    activity = _lock_activity(enrollment.activity_id)
    Enrollment.objects.filter(pk=enrollment.pk).delete()
    if timezone.now() < activity.time_end:
        _promote_locked(activity)


# --- Clock-in -----------------------------------------------------------------------------------


@dataclass
class ClockinResult:
    record: ClockinRecord
    created: bool


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _coordinate(value, bound: int) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ApplicationError(LOCATION_INVALID, code=Code.LOCATION_INVALID)
    if not number.is_finite() or abs(number) > bound:
        raise ApplicationError(LOCATION_INVALID, code=Code.LOCATION_INVALID)
    return number.quantize(Decimal("0.000001"))


def _insert_record(**fields) -> ClockinResult:
    try:
        with transaction.atomic():
            record = ClockinRecord.objects.create(**fields)
        return ClockinResult(record, True)
    except IntegrityError:
        # A concurrent scan of the same person won the unique constraint: answer with its record.
        existing = ClockinRecord.objects.filter(item=fields["item"], user=fields["user"]).first()
        if existing is None:
            raise
        return ClockinResult(existing, False)


def clockin_scan(
    *, user, key, latitude=None, longitude=None, activity_id: int | None = None
) -> ClockinResult:
    """Clock ``user`` in with a scanned QR text (the bare key, or the URL the QR code shows).

    Refusals are ``ApplicationError`` with the original's messages. A repeated scan after success
    (a retry, or a second phone tap) changes nothing and returns the existing record with
    ``created=False``; two concurrent scans are settled by the unique constraint.
    """
    verdict = qr.check_key(key)
    if not verdict.valid:
        raise ApplicationError(QR_INVALID, code=Code.QR_INVALID)
    item = ClockinItem.objects.select_related("activity").filter(pk=verdict.item_id).first()
    if item is None or (activity_id is not None and item.activity_id != activity_id):
        # (seed 002's POST /activities/clockins/<activity_id>/: a code of another activity is refused)
        raise ApplicationError(QR_INVALID, code=Code.QR_INVALID)
    if not verdict.fresh:
        raise ApplicationError(QR_EXPIRED, code=Code.QR_EXPIRED)
    return _clockin(user=user, item=item, latitude=latitude, longitude=longitude)


SHORT_CODE_INVALID = "打卡码不正确或已过期，请核对屏幕上的数字后重试。"


def clockin_with_code(*, user, activity_id: int, code, latitude=None, longitude=None) -> ClockinResult:
    """Clock ``user`` in by the six-digit code shown next to the QR code (for a phone without a
    camera), typed on the page of an activity the user can see. The code is the current or the
    previous one of one of the activity's items; everything after that is ``clockin_scan``'s."""
    from .selectors import activity_get_for_user

    activity = activity_get_for_user(user=user, activity_id=activity_id)
    item_ids = list(ClockinItem.objects.filter(activity=activity).values_list("pk", flat=True))
    item_id = qr.check_short_code(item_ids, code)
    if item_id is None:
        raise ApplicationError(SHORT_CODE_INVALID, field="code", code=Code.SHORT_CODE_INVALID)
    item = ClockinItem.objects.select_related("activity").get(pk=item_id)
    return _clockin(user=user, item=item, latitude=latitude, longitude=longitude)


def _clockin(*, user, item: ClockinItem, latitude=None, longitude=None) -> ClockinResult:
    enrollment = Enrollment.objects.filter(activity_id=item.activity_id, user=user).first()
    if enrollment is None:
        raise ApplicationError(NOT_ENROLLED, code=Code.NOT_ENROLLED)
    if enrollment.status == EnrollmentStatus.WAITING:
        raise ApplicationError(ON_WAITING_LIST, code=Code.ON_WAITING_LIST)
    existing = ClockinRecord.objects.filter(item=item, user=user).first()
    if existing is not None:
        return ClockinResult(existing, False)
    now = timezone.now()
    if not item.from_time <= now <= item.to_time:
        raise ApplicationError(OUT_OF_WINDOW, code=Code.OUT_OF_WINDOW)
    lat, lon = _coordinate(latitude, 90), _coordinate(longitude, 180)
    activity = item.activity
    if activity.has_geofence:
        if lat is None or lon is None:
            _geofence_check_stored(user=user, activity=activity)
        else:
            distance = _distance_m(
                float(lat), float(lon), float(activity.latitude), float(activity.longitude)
            )
            if distance > activity.geofence_radius:
                raise ApplicationError(
                    f"您不在活动地点附近（相距约 {round(distance)} 米），无法打卡。", code=Code.TOO_FAR
                )
    return _insert_record(
        item=item, enrollment=enrollment, user=user, source=ClockinSource.QR, latitude=lat, longitude=lon
    )


def _geofence_check_stored(*, user, activity) -> None:
    """A clock-in without coordinates: the geofence may use the position the user's WeChat last
    reported to the official account (issue 19), if it is younger than
    ACTIVITIES_GEOFENCE_POSITION_MINUTES; without one it is ``LOCATION_REQUIRED`` as before. The
    stored position is not copied onto the record: positions stay visible only to staff with
    ``official.view_followerlocation``."""
    position = None
    if settings.ACTIVITIES_GEOFENCE_POSITION_MINUTES > 0 and apps.is_installed("official"):
        recent_position = import_string("official.selectors.follower_recent_position")
        position = recent_position(
            user_id=user.pk, max_age_minutes=settings.ACTIVITIES_GEOFENCE_POSITION_MINUTES
        )
    if position is None:
        raise ApplicationError(LOCATION_REQUIRED, code=Code.LOCATION_REQUIRED)
    distance = _distance_m(
        float(position.latitude),
        float(position.longitude),
        float(activity.latitude),
        float(activity.longitude),
    )
    if distance > activity.geofence_radius:
        raise ApplicationError(
            f"根据您在公众号上报的位置（{timezone.localtime(position.reported_at):%H:%M}），"
            f"您不在活动地点附近（相距约 {round(distance)} 米），无法打卡。",
            code=Code.TOO_FAR,
        )
    logger.info(
        "Clock-in of user %s to activity %s by the position reported to the official account",
        user.pk,
        activity.pk,
    )


def _holds_a_place(enrollment: Enrollment | None, item: ClockinItem) -> bool:
    return (
        enrollment is not None
        and enrollment.activity_id == item.activity_id
        and enrollment.status == EnrollmentStatus.ENROLLED
    )


def clockin_manual_enrollment(*, item: ClockinItem, user) -> Enrollment:
    """The enrollment by which staff may clock ``user`` in to ``item`` by hand: the person must
    hold a place in the activity (not on the waiting list); the time window does not apply."""
    enrollment = Enrollment.objects.filter(activity_id=item.activity_id, user=user).first()
    if not _holds_a_place(enrollment, item):
        raise ApplicationError(f"{user} 未报名（或仍在候补）该活动，不能补录打卡。", code=Code.NOT_ENROLLED)
    return enrollment


def clockin_record_manual(*, item: ClockinItem, user, by) -> ClockinResult:
    """Staff clock someone in by hand (e.g. from a paper list); recorded as such, with who did it
    (the person must hold a place: ``clockin_manual_enrollment``)."""
    enrollment = clockin_manual_enrollment(item=item, user=user)
    return _insert_record(
        item=item, enrollment=enrollment, user=user, source=ClockinSource.MANUAL, recorded_by=by
    )


@transaction.atomic
def clockin_records_manual_bulk(*, item: ClockinItem, enrollments, by) -> tuple[int, int]:
    """Clock in several enrollments of ``item``'s activity by hand; returns (created, skipped)."""
    created = skipped = 0
    for enrollment in enrollments:
        if not _holds_a_place(enrollment, item):
            skipped += 1
            continue
        result = _insert_record(
            item=item,
            enrollment=enrollment,
            user=enrollment.user,
            source=ClockinSource.MANUAL,
            recorded_by=by,
        )
        created += int(result.created)
        skipped += int(not result.created)
    return created, skipped
