"""Throttles that read their rate at request time and survive a cache outage."""

import logging

from django.conf import settings
from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .exceptions import is_cache_outage

logger = logging.getLogger(__name__)


class SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is read from the settings on every request (DRF binds
    ``DEFAULT_THROTTLE_RATES`` at import): ``DEFAULT_THROTTLE_RATES[scope]``, or the setting
    named by ``rate_setting``.

    When the cache (Redis) is unreachable the request is let through and the outage logged:
    throttling is a protection, not a reason to refuse every request.
    """

    rate_setting: str | None = None
    # Counted in the cache every process shares (settings.CACHES["throttle"]), never per worker.
    cache = ConnectionProxy(caches, "throttle")

    def get_rate(self):
        if self.rate_setting:
            return getattr(settings, self.rate_setting)
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise
            logger.warning("Throttle %s skipped: cache unavailable (%r)", self.scope, exc)
            return True


class PerUserRateThrottle(SettingsRateThrottle):
    """Counted per signed-in user (per address for anonymous requests)."""

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PerUserWriteRateThrottle(PerUserRateThrottle):
    """Counts only writes (POST, PUT, PATCH, DELETE): reading the same endpoint stays free."""

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


def wait_text(seconds: float | None) -> str:
    """「N 秒后」/「N 分钟后」: when a throttled caller may try again, as the messages say it."""
    if not seconds:
        return "稍后"
    seconds = int(seconds + 0.999)
    return f"{seconds} 秒后" if seconds < 120 else f"{(seconds + 59) // 60} 分钟后"
