from wechathhu.api.throttling import PerUserRateThrottle


class ClockinCodeRateThrottle(PerUserRateThrottle):
    """Typed six-digit clock-in codes per user (``ACTIVITIES_CLOCKIN_CODE_RATE``): guessing a code
    within its 50 seconds stays hopeless."""

    scope = "clockin_code"
    rate_setting = "ACTIVITIES_CLOCKIN_CODE_RATE"
