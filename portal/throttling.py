"""The API's own throttles, applied to a page's request: one counter per rule, whichever door a
request comes through (a page's login attempts count against the API's limit, and back)."""

from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request


def throttle_wait(request, *throttle_classes) -> float | None:
    """Record this request against each throttle; ``None`` when allowed, else the seconds to wait."""
    api_request = Request(request, parsers=[FormParser(), MultiPartParser()])
    api_request.user = request.user
    for throttle_class in throttle_classes:
        throttle = throttle_class()
        if not throttle.allow_request(api_request, None):
            return throttle.wait() or 1
    return None


def wait_text(seconds: float | None) -> str:
    if not seconds:
        return "稍后"
    seconds = int(seconds + 0.999)
    return f"{seconds} 秒后" if seconds < 120 else f"{(seconds + 59) // 60} 分钟后"
