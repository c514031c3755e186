import pytest


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):
    """Sign-up, reset and login limits count in the cache: each test starts with none."""
