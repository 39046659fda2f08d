"""Error codes of meeting-room bookings (``ApplicationError.code``, answered as ``error_code``);
clients branch on these."""

from enum import StrEnum


class ReservationErrorCode(StrEnum):
    OCCUPIED = "occupied"  # the room is booked in (part of) that span
    INVALID_SPAN = "invalid_span"  # start not before end, off the grid, too long or too short
    IN_THE_PAST = "in_the_past"
    TOO_FAR_AHEAD = "too_far_ahead"
    OUTSIDE_HOURS = "outside_hours"
    ROOM_CLOSED = "room_closed"
    INVALID_RULE = "invalid_rule"  # a recurring booking's rule
    INVALID_QUERY = "invalid_query"  # an availability search's parameters
    SERIES_CONFLICTS = "series_conflicts"
    QUOTA_EXCEEDED = "quota_exceeded"  # the user holds too many bookings that have not ended
