from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "avatar_studio.core"
    verbose_name = "Core"
