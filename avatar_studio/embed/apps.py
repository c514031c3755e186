from django.apps import AppConfig


class EmbedConfig(AppConfig):
    name = "avatar_studio.embed"
    label = "embed"
    verbose_name = "Embedded button"
    default_auto_field = "django.db.models.BigAutoField"
