"""Logging out marks the user offline at once (issue 14 item 6): a device's token revoked (the API's
logout) or a browser signed out (the portal)."""

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import AuthToken

from . import realtime


@receiver(post_delete, sender=AuthToken, dispatch_uid="conversations_token_deleted")
def token_deleted(sender, instance, **kwargs):
    realtime.presence_offline(instance.user_id)


@receiver(user_logged_out, dispatch_uid="conversations_logged_out")
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        realtime.presence_offline(user.pk)
