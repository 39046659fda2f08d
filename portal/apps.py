from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The H5 portal: server-rendered pages for students and teachers on a phone, under ``/m/``."""

    name = "portal"
    verbose_name = "手机门户"
