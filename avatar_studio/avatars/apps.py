from django.apps import AppConfig
from django.db.models.signals import post_delete


class AvatarsConfig(AppConfig):
    name = "avatar_studio.avatars"
    verbose_name = "Avatars"

    def ready(self):
        # Retention and file clean-up (see avatars.retention); importing it also registers its
        # Celery tasks in every process that loads the app.
        from . import retention
        from .models import AvatarJob, AvatarResult
        from .signals import job_finished

        job_finished.connect(retention.on_job_finished, dispatch_uid="retention-job-finished")
        post_delete.connect(
            retention.on_job_deleted, sender=AvatarJob, dispatch_uid="retention-job-deleted"
        )
        post_delete.connect(
            retention.on_result_deleted,
            sender=AvatarResult,
            dispatch_uid="retention-result-deleted",
        )
