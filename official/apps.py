from django.apps import AppConfig


class OfficialConfig(AppConfig):
    name = "official"
    verbose_name = "微信公众号"
