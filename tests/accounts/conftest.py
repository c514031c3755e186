import pytest
from django.core.cache import cache

from avatar_studio import celery_app


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Sign-up, reset and login limits count in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eager_tasks():
    """Celery tasks (the account mails) run in the calling process."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
