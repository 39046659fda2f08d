from django.apps import AppConfig


class OfficialConfig(AppConfig):
    name = "official"
    verbose_name = "微信公众号"

    def ready(self):
        # Register the tasks in every process, so that services can queue them by name
        # (``celery.current_app.tasks[...]``) without importing them: tasks import services,
        # never the other way.
        from . import tasks  # noqa: F401
