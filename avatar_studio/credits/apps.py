from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "avatar_studio.credits"
    verbose_name = "Credits"

    def ready(self):
        from avatar_studio.avatars import quota
        from avatar_studio.avatars.pipeline.signals import job_ending

        from . import ledger

        # A bad AVATAR_DAILY_CREDITS stops every process here, naming the setting.
        quota.daily_credits()
        job_ending.connect(ledger.on_job_ending, dispatch_uid="credits-job-ending")
