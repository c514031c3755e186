from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "avatar_studio.core"
    verbose_name = "Core"

    def ready(self):
        from .security import install_log_redaction

        # No log line, in any process that loads Django, may carry the FASHN API key.
        install_log_redaction()

        # Our Celery app, created here in every process that loads Django (web, workers,
        # management commands, tests), so that it is the current app before any task is sent:
        # @shared_task tasks then go to our broker, not to Celery's default app. Here rather than
        # in wsgi.py or manage.py, which each cover only some of those processes; and not in
        # avatar_studio/__init__.py, which would make every import of the package, even the
        # Django-free FASHN client, import Celery.
        import avatar_studio.celery  # noqa: F401
