from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "avatar_studio.api"
    label = "api"
    verbose_name = "JSON API"

    def ready(self):
        # Webhooks: an avatar or a try-on that completes or fails gets its events recorded and
        # delivered (api.deliveries); importing tasks registers them in every process that loads
        # the app.
        from avatar_studio.avatars.pipeline.signals import job_finished

        from . import deliveries, tasks  # noqa: F401

        job_finished.connect(deliveries.on_job_finished, dispatch_uid="api-webhook-job-finished")
