from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "avatar_studio.shop"
    label = "shop"
    verbose_name = "Demo store"
    default_auto_field = "django.db.models.BigAutoField"
