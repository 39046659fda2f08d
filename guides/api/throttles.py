from wechathhu.api.throttling import PerUserRateThrottle

MAIL_THROTTLED = "发送邮件过于频繁，请稍后再试。"


class MailRateThrottle(PerUserRateThrottle):
    """Guide mails per signed-in user (rate ``mail`` in ``DEFAULT_THROTTLE_RATES``)."""

    scope = "mail"
