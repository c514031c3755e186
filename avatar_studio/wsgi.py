"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatar_studio.settings")

django_application = get_wsgi_application()

# gunicorn has no body-size option: request bodies are capped here, before Django reads them.
from avatar_studio.core.wsgi_limits import BodyLimit  # noqa: E402 - needs the settings loaded

application = BodyLimit(django_application)
