import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate

logger = logging.getLogger("wechathhu")


def create_cache_tables(*, using="default", app_config=None, **kwargs) -> None:
    """The database caches' tables (the throttles' shared counters without Redis), created at every
    ``migrate`` — ``make run``, ``make deploy`` and the test database alike. Idempotent: an
    existing table is left alone.

    ``post_migrate`` is sent once per app with models (this app has none): answered for
    ``contenttypes``, always installed and always migrated."""
    from django.core.management import call_command

    if app_config is not None and app_config.label != "contenttypes":
        return
    call_command("createcachetable", database=using, verbosity=0)


class WechathhuConfig(AppConfig):
    name = "wechathhu"
    verbose_name = "wechathhu"

    def ready(self):
        from django.conf import settings

        from . import checks
        from .admin_fields import bound_admin_datetimes

        bound_admin_datetimes()

        post_migrate.connect(create_cache_tables, dispatch_uid="wechathhu.create_cache_tables")
        if not settings.DEBUG:
            problem = checks.site_url_problem()
            if problem:
                # Every process says it once at start-up (gunicorn workers, the worker, beat): the
                # links in mails would otherwise go nowhere, silently.
                logger.warning("%s", problem)
