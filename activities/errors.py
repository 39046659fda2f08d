"""Error codes of activities (``ApplicationError.code``, answered as ``error_code``); clients branch on these."""

from enum import StrEnum


class ActivitiesErrorCode(StrEnum):
    # Enrolling
    NOT_OPEN = "not_open"
    ENDED = "ended"
    DEADLINE_PASSED = "deadline_passed"
    ALREADY_ENROLLED = "already_enrolled"
    FORM_INVALID = "form_invalid"  # the answers do not fit the enrollment form
    FULL = "full"
    CANCEL_AFTER_START = "cancel_after_start"
    # Clocking in
    QR_INVALID = "qr_invalid"
    QR_EXPIRED = "qr_expired"
    SHORT_CODE_INVALID = "short_code_invalid"  # the six-digit code typed instead of scanning
    NOT_ENROLLED = "not_enrolled"
    ON_WAITING_LIST = "on_waiting_list"
    OUT_OF_WINDOW = "out_of_window"
    LOCATION_REQUIRED = "location_required"
    LOCATION_INVALID = "location_invalid"
    TOO_FAR = "too_far"  # outside the activity's geofence
    LABEL_MISSING = "label_missing"


# An activity outside the caller's audience is refused exactly as DRF refuses an unknown id.
NOT_IN_AUDIENCE_CODE = "does_not_exist"
