"""The admin app with the project's own site (``wechathhu.admin_site``) as ``admin.site``.

A module of its own: Django reads it while loading apps, before any model may be imported."""

from django.contrib.admin.apps import AdminConfig


class WechathhuAdminConfig(AdminConfig):
    default_site = "wechathhu.admin_site.WechathhuAdminSite"
