"""What the token cache must forget (see ``accounts.token_cache``): a token revoked or expired,
a user saved (deactivated, a new password, a new name …), a user's groups changed, a department
or group renamed or removed. And what the directory search's index (``accounts.search``) must
rewrite: a user's searchable texts, a department's name."""

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from . import search, token_cache
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


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="token_cache_groups_changed")
def groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:  # user.groups.add(…)
        token_cache.invalidate_where(user_id=instance.pk)
    elif action == "pre_clear":  # group.user_set.clear()
        token_cache.invalidate_where(user__groups=instance.pk)
    else:  # group.user_set.add(…)
        token_cache.invalidate_where(user_id__in=list(pk_set or ()))


@receiver(pre_delete, sender=Group, dispatch_uid="token_cache_group_deleted")
def group_deleted(sender, instance, **kwargs):
    token_cache.invalidate_where(user__groups=instance.pk)


@receiver(post_save, sender=User, dispatch_uid="directory_search_user_saved")
def user_saved_index(sender, instance, created, update_fields=None, raw=False, **kwargs):
    """The user's directory search terms (``accounts.search``), unless only other fields were saved."""
    if raw or (update_fields is not None and not set(update_fields) & set(search.INDEXED_FIELDS)):
        return
    search.index_users([instance.pk])


@receiver(pre_save, sender=Department, dispatch_uid="directory_search_department_saving")
def department_saving_index(sender, instance, raw=False, **kwargs):
    """The stored name, to tell a rename (its users re-indexed) from another save."""
    if instance.pk and not raw:
        instance._stored_name = (
            Department.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
        )


@receiver(post_save, sender=Department, dispatch_uid="directory_search_department_saved")
def department_saved_index(sender, instance, created, raw=False, **kwargs):
    """A renamed department: its users' terms hold its name."""
    if not created and not raw and getattr(instance, "_stored_name", instance.name) != instance.name:
        search.index_department_users(instance.pk)
