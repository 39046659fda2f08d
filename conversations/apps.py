from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "会话"

    def ready(self):
        from . import signals  # noqa: F401 - logging out marks the user offline
