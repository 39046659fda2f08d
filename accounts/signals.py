"""What the token cache must forget (see ``accounts.token_cache``): a token revoked or expired,
a user saved (deactivated, a new password, a new name …), a department renamed or removed."""

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import token_cache
from .models import AuthToken, Department, User


@receiver(post_delete, sender=AuthToken, dispatch_uid="token_cache_token_deleted")
def token_deleted(sender, instance, **kwargs):
    token_cache.invalidate([instance.key])


@receiver(post_save, sender=User, dispatch_uid="token_cache_user_saved")
def user_saved(sender, instance, created, **kwargs):
    if not created:
        token_cache.invalidate_where(user_id=instance.pk)


@receiver(post_save, sender=Department, dispatch_uid="token_cache_department_saved")
@receiver(pre_delete, sender=Department, dispatch_uid="token_cache_department_deleted")
def department_changed(sender, instance, **kwargs):
    token_cache.invalidate_where(user__department_id=instance.pk)
