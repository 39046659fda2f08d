"""Throttles of the accounts endpoints (rates in ``DEFAULT_THROTTLE_RATES``)."""

import hashlib

from rest_framework import exceptions

from wechathhu.api.throttling import SettingsRateThrottle


class LoginRateThrottle(SettingsRateThrottle):
    """Login attempts per client address."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameRateThrottle(SettingsRateThrottle):
    """Login attempts per account name, whatever address they come from."""

    scope = "login_user"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not username or not isinstance(username, str):
            return None
        # Hashed: an account name is user input and may hold any character.
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterRateThrottle(SettingsRateThrottle):
    """Sign-ups per client address."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginThrottleMixin:
    throttle_classes = (LoginRateThrottle, LoginUsernameRateThrottle)

    def throttled(self, request, wait):
        raise exceptions.Throttled(wait=wait, detail="登录尝试过于频繁，请稍后再试。")
