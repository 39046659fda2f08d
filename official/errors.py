"""Error codes of the official account (``ApplicationError.code``)."""

from enum import StrEnum


class OfficialErrorCode(StrEnum):
    DISABLED = "official_disabled"
    WECHAT_ERROR = "wechat_error"
    WECHAT_UNAVAILABLE = "wechat_unavailable"
    SNAPSHOT_USER = "snapshot_user"
    BIND_INACTIVE = "bind_inactive"
    WINDOW_CLOSED = "window_closed"
    NO_TEMPLATE = "no_template"
    INVALID_REPLY = "invalid_reply"
    INVALID_MENU = "invalid_menu"
    TAG_LIMIT = "tag_limit"
    MASS_NOT_DRAFT = "mass_not_draft"
    MASS_ALLOWANCE = "mass_allowance"
    MASS_AUDIENCE = "mass_audience"
    THREAD_STATE = "thread_state"
    INVALID_SCENE = "invalid_scene"
    INVALID_POST = "invalid_post"
    TOPIC_CLOSED = "topic_closed"
