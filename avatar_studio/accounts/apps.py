from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "avatar_studio.accounts"
    verbose_name = "Accounts"
