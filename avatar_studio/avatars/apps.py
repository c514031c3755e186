from django.apps import AppConfig


class AvatarsConfig(AppConfig):
    name = "avatar_studio.avatars"
    verbose_name = "Avatars"
