"""Error codes of repairs (``ApplicationError.code``)."""

from enum import StrEnum


class RepairsErrorCode(StrEnum):
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    REASON_REQUIRED = "reason_required"
    PERMISSION_DENIED = "permission_denied"
    NOT_SOLVED = "not_solved"
    ALREADY_RATED = "already_rated"
    INVALID_RATING = "invalid_rating"
    CATEGORY_INACTIVE = "category_inactive"
    INVALID_PHOTO = "invalid_photo"
    # The photo refusals answer their own code (repairs/validators.py):
    PHOTO_COUNT = "photo_count"
    PHOTO_TOO_LARGE = "photo_too_large"
    PHOTO_TOO_MANY_PIXELS = "photo_too_many_pixels"
    PHOTO_FORMAT = "photo_format"
    PHOTO_NOT_IMAGE = "photo_not_image"
    INVALID_ASSIGNEE = "invalid_assignee"
    EMPTY_CONTENT = "empty_content"
