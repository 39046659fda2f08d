"""What the portal stores of its own: the browser sessions a user is signed in with, so that
我的 → 设备 can list them and sign one out (Django's sessions are not queryable by user)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PageSession(models.Model):
    """One signed-in browser session of the portal."""

    session_key = models.CharField(_("会话"), max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="page_sessions",
    )
    device = models.CharField(_("设备"), max_length=255, blank=True)
    ip = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("登录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("网页登录会话")
        verbose_name_plural = _("网页登录会话")
        indexes = [models.Index(fields=["user", "-created_at"], name="pagesession_user_created")]

    def __str__(self) -> str:
        return f"{self.user} · {self.device[:40]}"
