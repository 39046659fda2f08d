"""The counters of login attempts and sign-ups (rates in ``DEFAULT_THROTTLE_RATES``), kept in the
cache every process shares. Password logins are throttled by the login service itself
(``accounts/services/login.py``), whatever door they come through; the claim and sign-up views
use these as DRF throttles."""

import hashlib

from wechathhu.api.throttling import SettingsRateThrottle

from .usernames import username_key


class LoginRateThrottle(SettingsRateThrottle):
    """Login attempts per client address."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameRateThrottle(SettingsRateThrottle):
    """Login attempts per account, whatever address they come from and however the number is
    spelled (``t1001``, ``Ｔ１００１`` and ``T1001`` are one account: ``accounts/usernames.py``).
    The account is given, or read from the request's ``username``."""

    scope = "login_user"

    def __init__(self, username: str | None = None):
        super().__init__()
        self.username = username

    def get_cache_key(self, request, view):
        username = self.username
        if username is None:
            username = request.data.get("username") if hasattr(request.data, "get") else None
        if not username or not isinstance(username, str):
            return None
        # Hashed: an account name is user input and may hold any character.
        ident = hashlib.sha256(username_key(username).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterRateThrottle(SettingsRateThrottle):
    """Sign-ups per client address."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
