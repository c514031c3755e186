from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "avatar_studio.core"
    verbose_name = "Core"

    def ready(self):
        from .security import install_log_redaction

        # No log line, in any process that loads Django, may carry the FASHN API key.
        install_log_redaction()
