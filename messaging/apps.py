from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "消息中心"

    def ready(self):
        from .roles import ensure_sender_group

        # After auth has created the permissions; idempotent.
        post_migrate.connect(ensure_sender_group, sender=self, dispatch_uid="messaging-sender-group")
