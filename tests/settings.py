"""The test suite's settings: the app's own, in development mode.

The app's settings default to production (DEBUG off), and pytest-django reads the settings module
before any conftest.py is imported, so DEBUG is turned on here, in the environment, before the
app's settings are read: every default that follows from DEBUG is then the development one, and
the processes the tests start (Celery workers, gunicorn, runstack) inherit it. Tests of the
production settings start a process of their own with ``DJANGO_SETTINGS_MODULE`` and
``DJANGO_DEBUG`` set explicitly.
"""

import os

os.environ["DJANGO_DEBUG"] = "true"

from avatar_studio.settings import *  # noqa: E402, F403
