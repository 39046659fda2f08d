import hashlib
import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from wechathhu.api.exceptions import is_cache_outage

logger = logging.getLogger(__name__)


class SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate from the settings at request time (DRF binds them at import).

    When the cache (Redis) is unreachable the request is let through and the outage logged:
    throttling is a protection, not a reason to refuse every login.
    """

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise
            logger.warning("Throttle %s skipped: cache unavailable (%r)", self.scope, exc)
            return True


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
