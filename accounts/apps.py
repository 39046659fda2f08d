from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与通讯录"

    def ready(self):
        from . import signals  # noqa: F401 - connects the token cache's receivers
