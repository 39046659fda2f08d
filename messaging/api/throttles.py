"""Throttles of the message-center endpoints (rates in ``DEFAULT_THROTTLE_RATES``)."""

from wechathhu.api.throttling import PerUserWriteRateThrottle


class SendRateThrottle(PerUserWriteRateThrottle):
    """Sending, changing and re-addressing messages per sender (each send may push to WeChat)."""

    scope = "message_send"
