"""Per-device tokens, accepted as ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``.

A token stops working after ``TOKEN_IDLE_TIMEOUT`` seconds without use. Its ``last_used_at``
is written at most every ``TOKEN_TOUCH_INTERVAL`` seconds, so ordinary requests stay reads.
A token seen recently comes with its user from ``accounts.token_cache`` without any SQL.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import token_cache
from .models import AuthToken

KEYWORDS = ("token", "bearer")


class ExpiringTokenAuthentication(TokenAuthentication):
    keyword = "Token"
    model = AuthToken

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed(_("无效的令牌头。未提供认证信息。"))
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed(_("无效的令牌头。令牌字符串不应包含空格。"))
        key = parts[1]
        if key == "null":  # the mini-program sends "Token null" before login
            return None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key):
        caching = token_cache.enabled()
        cached, version = token_cache.get(key) if caching else (None, None)
        token = cached or (
            AuthToken.objects.select_related("user__department").order_by().filter(key=key).first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("认证令牌无效。"))
        if caching and cached is None:
            # Kept with the user for the current-user answers (a query once per cache entry).
            prefetch_related_objects([token.user], "groups")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("用户未激活或已删除。"))
        now = timezone.now()
        if token.last_used_at < now - timedelta(seconds=settings.TOKEN_IDLE_TIMEOUT):
            AuthToken.objects.filter(pk=token.pk).delete()
            raise exceptions.AuthenticationFailed(_("认证令牌已过期，请重新登录。"))
        if token.last_used_at < now - timedelta(seconds=settings.TOKEN_TOUCH_INTERVAL):
            if not AuthToken.objects.filter(pk=token.pk).update(last_used_at=now):
                raise exceptions.AuthenticationFailed(_("认证令牌无效。"))  # revoked meanwhile
            token.last_used_at = now
            cached = None
        if cached is None and caching:
            token_cache.put(token, version)
        return token.user, token
