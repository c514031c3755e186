from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "avatar_studio.api"
    label = "api"
    verbose_name = "JSON API"
