from django.apps import AppConfig
from django.db.models.signals import post_delete


class AvatarsConfig(AppConfig):
    name = "avatar_studio.avatars"
    verbose_name = "Avatars"

    def ready(self):
        # Importing the task modules registers their Celery tasks in every process that loads
        # the app (web, worker, beat): the pipeline sends its steps by task name.
        from . import files, options, orphans, retention  # noqa: F401
        from .models import AvatarJob, AvatarResult
        from .pipeline import tasks  # noqa: F401
        from .pipeline.signals import job_finished

        # A bad AVATAR_DEFAULT_* or AVATAR_MAX_* stops every process here, naming the setting.
        options.current()
        job_finished.connect(retention.on_job_finished, dispatch_uid="retention-job-finished")
        post_delete.connect(
            files.on_job_deleted, sender=AvatarJob, dispatch_uid="files-job-deleted"
        )
        post_delete.connect(
            files.on_result_deleted, sender=AvatarResult, dispatch_uid="files-result-deleted"
        )
