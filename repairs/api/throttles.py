import logging

from django.conf import settings
from rest_framework.throttling import UserRateThrottle

from wechathhu.api.exceptions import is_cache_outage

logger = logging.getLogger(__name__)


class RepairCreateThrottle(UserRateThrottle):
    """New repair requests per user (each one mails people): ``REPAIRS_CREATE_RATE``.

    The rate is read at request time; if the cache (Redis) is down the request is let through.
    """

    scope = "repair_create"

    def get_rate(self):
        return settings.REPAIRS_CREATE_RATE

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            if not is_cache_outage(exc):
                raise
            logger.warning("Repair throttle skipped: cache unavailable (%r)", exc)
            return True
