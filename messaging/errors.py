"""Error codes of the message center (``ApplicationError.code``); clients branch on these."""

from enum import StrEnum


class MessagingErrorCode(StrEnum):
    NO_RECIPIENTS = "no_recipients"
    UNKNOWN_RECIPIENTS = "unknown_recipients"
    GLOBAL_NOT_ALLOWED = "global_not_allowed"
    SEND_NOT_ALLOWED = "send_not_allowed"
    GLOBAL_HAS_NO_RECIPIENTS = "global_has_no_recipients"
    EXPIRED = "expired"
    INVALID_KIND = "invalid_kind"
    UNKNOWN_CATEGORY = "unknown_category"
    INVALID_PREFERENCES = "invalid_preferences"
    REMINDER_NOT_ALLOWED = "reminder_not_allowed"
    NOT_THE_SENDER = "not_the_sender"
    AUDIENCE_NOT_ALLOWED = "audience_not_allowed"
    # Attachments, the hot list, templates (issue 20 items 4, 6, 8).
    ATTACHMENT_REFUSED = "attachment_refused"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
    INVALID_HOT_WINDOW = "invalid_hot_window"
    UNKNOWN_PLACEHOLDERS = "unknown_placeholders"
    PLACEHOLDERS_NEED_RECIPIENTS = "placeholders_need_recipients"
