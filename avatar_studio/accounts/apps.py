from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "avatar_studio.accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib import admin
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete

        # Importing the tasks registers them in every process that loads the app (web, worker).
        from . import deletion, ratelimit, tasks  # noqa: F401
        from .forms import RateLimitedAdminAuthenticationForm

        # Failures are counted by the authentication backend itself (ratelimit); a success makes
        # the browser a known one for the account.
        user_logged_in.connect(ratelimit.on_logged_in, dispatch_uid="login-limit-success")
        post_delete.connect(
            deletion.on_user_deleted, sender=get_user_model(), dispatch_uid="account-files"
        )
        # The admin's login page says so too when logging in is paused.
        admin.site.login_form = RateLimitedAdminAuthenticationForm
