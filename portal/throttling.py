"""The API's own throttles, applied to a page's request: one counter per rule, whichever door a
request comes through (a page's login attempts count against the API's limit, and back)."""

from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request

from wechathhu.api.throttling import wait_text

__all__ = ["throttle_wait", "wait_text"]


def throttle_wait(request, *throttle_classes) -> float | None:
    """Record this request against each throttle; ``None`` when allowed, else the seconds to wait."""
    api_request = Request(request, parsers=[FormParser(), MultiPartParser()])
    api_request.user = request.user
    for throttle_class in throttle_classes:
        throttle = throttle_class()
        if not throttle.allow_request(api_request, None):
            return throttle.wait() or 1
    return None
