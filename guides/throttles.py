from accounts.throttles import SettingsRateThrottle

MAIL_THROTTLED = "发送邮件过于频繁，请稍后再试。"


class MailRateThrottle(SettingsRateThrottle):
    """Guide mails per signed-in user (rate ``mail`` in ``DEFAULT_THROTTLE_RATES``)."""

    scope = "mail"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
