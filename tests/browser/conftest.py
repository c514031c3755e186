"""Browser tests: Debian's Chromium driven by Playwright against the live test server.

The ``browser`` and ``new_page`` fixtures live in tests/conftest.py (the admin tests use them too).
"""

import pytest

from ..support.browser import save_screenshot


@pytest.fixture
def screenshot():
    return save_screenshot


@pytest.fixture
def selfie_path(tmp_path):
    from ..support.faces import astronaut_jpeg

    path = tmp_path / "astronaut.jpg"
    path.write_bytes(astronaut_jpeg())
    return path
