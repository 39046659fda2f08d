import logging

from django.apps import AppConfig

logger = logging.getLogger("wechathhu")


class WechathhuConfig(AppConfig):
    name = "wechathhu"
    verbose_name = "wechathhu"

    def ready(self):
        from django.conf import settings

        from . import checks
        from .admin_fields import bound_admin_datetimes

        bound_admin_datetimes()

        if not settings.DEBUG:
            problem = checks.site_url_problem()
            if problem:
                # Every process says it once at start-up (gunicorn workers, the worker, beat): the
                # links in mails would otherwise go nowhere, silently.
                logger.warning("%s", problem)
