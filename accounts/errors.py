"""Error codes of accounts (``ApplicationError.code``, answered as ``error_code``); clients branch on these."""

from enum import StrEnum


class AccountsErrorCode(StrEnum):
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "throttled"  # 429: too many attempts from this address
    LOCKED_FOR_UNKNOWN_DEVICES = "locked_for_unknown_devices"  # 429: the account's limit; known devices pass
    AWAITING_APPROVAL = "awaiting_approval"  # signed up, not yet approved by staff
    WECHAT_CODE_MISSING = "wechat_code_missing"
    WECHAT_NOT_BOUND = "wechat_not_bound"  # no account is bound to this WeChat user
    WECHAT_DISABLED = "wechat_disabled"  # 503: WeChat login is not configured
    WECHAT_UNAVAILABLE = "wechat_unavailable"  # 503: WeChat did not answer
    WECHAT_ERROR = "wechat_error"  # WeChat refused the code
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an error code, not a password
    FRIEND_SELF = "friend_self"
    FRIEND_EXISTS = "friend_exists"
    USER_INACTIVE = "user_inactive"
    MEMBER_EXISTS = "member_exists"
    CLAIM_FAILED = "claim_failed"  # any mismatch, on purpose one code for all
    CLAIM_PROOF_MISSING = "proof_missing"  # neither the initial password nor a claim code
    CLAIM_NOT_NEEDED = "claim_not_needed"
    REGISTRATION_CLOSED = "registration_closed"  # 403
    INVALID_KIND = "invalid_kind"
    CLASS_NOT_ALLOWED = "class_not_allowed"  # only students choose a class
    USERNAME_TAKEN = "username_taken"
    AVATAR_TOO_LARGE = "avatar_too_large"
    AVATAR_TOO_MANY_PIXELS = "avatar_too_many_pixels"
    AVATAR_NOT_IMAGE = "avatar_not_image"
