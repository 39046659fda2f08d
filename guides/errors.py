"""Error codes of service guides (``ApplicationError.code``, answered as ``error_code``); clients branch on these."""

from enum import StrEnum


class GuidesErrorCode(StrEnum):
    NO_EMAIL = "no_email"  # the user has no e-mail address to send the guide to
    LINK_EXPIRED = "link_expired"  # 410: a download link past its time
    LINK_INVALID = "link_invalid"  # 404: a download link that was never issued or was tampered with
