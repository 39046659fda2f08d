"""Error codes of conversations (``ApplicationError.code``, answered as ``error_code``)."""

from enum import StrEnum


class ConversationsErrorCode(StrEnum):
    NOT_ALLOWED = "conversation_not_allowed"  # the rules do not let me start with this person
    BLOCKED = "blocked"  # the other side blocked me
    MESSAGING_BANNED = "messaging_banned"  # staff stopped me from messaging
    SELF = "conversation_self"
    USER_INACTIVE = "user_inactive"
    NOT_A_MEMBER = "not_a_member"
    NOT_A_MANAGER = "not_a_manager"
    GROUP_FULL = "group_full"
    GROUP_ONLY = "group_only"  # an operation on a direct conversation that only groups have
    OWNER_CANNOT_LEAVE = "owner_cannot_leave"
    EMPTY_MESSAGE = "empty_message"
    TOO_LONG = "message_too_long"
    FILE_MISSING = "file_missing"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE = "file_type"
    FILE_CONTENT = "file_content"
    RECALL_EXPIRED = "recall_expired"
    NOT_THE_SENDER = "not_the_sender"
    ALREADY_RECALLED = "already_recalled"
    TOO_MANY_RECIPIENTS = "too_many_recipients"
    ALREADY_REPORTED = "already_reported"
