from wechathhu.api.throttling import PerUserRateThrottle


class RepairCreateThrottle(PerUserRateThrottle):
    """New repair requests per user (each one mails people): ``REPAIRS_CREATE_RATE``."""

    scope = "repair_create"
    rate_setting = "REPAIRS_CREATE_RATE"
