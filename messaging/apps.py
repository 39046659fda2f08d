from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "消息中心"

    def ready(self):
        from .roles import ensure_sender_group
        from .search import register_sqlite_fold

        # After auth has created the permissions; idempotent.
        post_migrate.connect(ensure_sender_group, sender=self, dispatch_uid="messaging-sender-group")
        # The search's phrase check folds text like the index does (SQLite only; messaging.search).
        connection_created.connect(register_sqlite_fold, dispatch_uid="messaging-search-fold")
