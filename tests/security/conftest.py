import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login and API rate-limit counts live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def selfie_path(tmp_path):
    from ..support.faces import astronaut_jpeg

    path = tmp_path / "astronaut.jpg"
    path.write_bytes(astronaut_jpeg())
    return path
