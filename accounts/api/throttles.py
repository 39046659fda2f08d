"""Throttles of the accounts endpoints (the counters live in ``accounts/throttles.py``)."""

from rest_framework import exceptions

from ..throttles import LoginRateThrottle, LoginUsernameRateThrottle, RegisterRateThrottle

__all__ = ["LoginRateThrottle", "LoginThrottleMixin", "LoginUsernameRateThrottle", "RegisterRateThrottle"]

LOGIN_THROTTLED = "登录尝试过于频繁，请稍后再试。"


class LoginThrottleMixin:
    throttle_classes = (LoginRateThrottle, LoginUsernameRateThrottle)

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait=wait, detail=LOGIN_THROTTLED)
