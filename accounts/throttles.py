from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate from the settings at request time (DRF binds them at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


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
        return self.cache_format % {"scope": self.scope, "ident": username.strip().lower()[:150]}


class RegisterRateThrottle(SettingsRateThrottle):
    """Sign-ups per client address."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
