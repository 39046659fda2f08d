"""The staff's admin site: a 今日概览 (today's overview) above the apps, the apps in the order staff
use them (消息中心 first), and the scheduler's tables under a 系统 group that only superusers see.

``admin.site`` is this site (``wechathhu.admin_apps.WechathhuAdminConfig``), so every app's
``admin.register`` lands here unchanged.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models.base import ModelBase
from django.urls import NoReverseMatch, reverse

# The apps by how much staff use them; any other app follows, by name.
APP_ORDER = (
    "messaging",
    "official",
    "activities",
    "reservations",
    "repairs",
    "guides",
    "accounts",
    "auth",
)
# The project's machinery rather than its content: grouped under 系统, for superusers only.
SYSTEM_APPS = ("django_celery_beat",)
SYSTEM_GROUP = "系统"
OVERVIEW_TITLE = "今日概览"  # the home's title (urls.py may set another ``index_title`` for app pages)


class SuperuserOnlyAdmin:
    """A model admin that only superusers see or use (its pages are 403 to other staff, and its
    app is absent from their app list)."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, *args, **kwargs):
        return self.has_module_permission(request) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


class WechathhuAdminSite(admin.AdminSite):
    site_header = "HHU计信院教师微服务"
    site_title = "HHU计信院教师微服务"
    index_template = "admin/wechathhu/index.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        """As Django's, except that the system apps' models are for superusers only."""
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        for model in models:
            model_admin = admin_class or admin.ModelAdmin
            if model._meta.app_label in SYSTEM_APPS and not issubclass(model_admin, SuperuserOnlyAdmin):
                model_admin = type(model_admin.__name__, (SuperuserOnlyAdmin, model_admin), {})
            super().register(model, model_admin, **options)

    def get_app_list(self, request, app_label=None):
        """The apps in ``APP_ORDER``, then the others by name, then (superusers) the 系统 group.

        An app's own page (``app_label``) is Django's, unchanged."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        app_dict = self._build_app_dict(request)
        system = [app_dict.pop(label) for label in SYSTEM_APPS if label in app_dict]
        rank = {label: position for position, label in enumerate(APP_ORDER)}
        app_list = sorted(
            app_dict.values(), key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"])
        )
        for app in app_list:
            app["models"].sort(key=lambda model: model["name"])
        if system and request.user.is_superuser:
            app_list.append(
                {
                    "name": SYSTEM_GROUP,
                    "app_label": system[0]["app_label"],
                    "app_url": system[0]["app_url"],
                    "has_module_perms": True,
                    "models": sorted(
                        (model for app in system for model in app["models"]), key=lambda model: model["name"]
                    ),
                }
            )
        return app_list

    def index(self, request, extra_context=None):
        from .admin_overview import overview

        context = {"title": OVERVIEW_TITLE, "overview": overview(request, site=self), **(extra_context or {})}
        return super().index(request, context)

    def changelist_url(self, request, model, query: str = "") -> str | None:
        """The changelist of ``model`` with ``query``, when this user may see it (else None)."""
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.has_view_or_change_permission(request):
            return None
        opts = model._meta
        try:
            url = reverse(f"{self.name}:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            return None
        return f"{url}?{query}" if query else url

    def may_view(self, request, model) -> bool:
        model_admin = self._registry.get(model)
        return model_admin is not None and model_admin.has_view_or_change_permission(request)
