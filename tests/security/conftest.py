import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login and API rate-limit counts live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()
