"""Fixtures for the FASHN client tests: the offline engine over real loopback HTTP.

``engine_server`` and ``engine`` come from tests/conftest.py; the ``engine`` here extends it
with near-zero phase durations so a prediction completes within a few polls.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from avatar_studio.fashn import FashnClient, Prediction
from tests.support.faces import astronaut_jpeg

FAST_PHASES = {"starting_seconds": 0.0, "in_queue_seconds": 0.0, "processing_seconds": 0.0}


@pytest.fixture
def engine(engine):
    engine.configure(**FAST_PHASES)
    return engine


@pytest.fixture
def client(engine) -> Iterator[FashnClient]:
    with FashnClient(engine.api_key, engine.url, connect_timeout=2.0, read_timeout=5.0) as c:
        yield c


@pytest.fixture(scope="session")
def face_data_uri() -> str:
    """A real face (scikit-image's astronaut) as a JPEG data URI, the way the app sends it."""
    return "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg()).decode("ascii")


@pytest.fixture
def wait_for() -> Callable[..., Prediction]:
    """Poll a prediction until it is terminal (or ``until`` holds), within a deadline."""

    def wait(client: FashnClient, prediction_id: str, *, until=None, seconds=10.0):
        until = until or (lambda p: p.is_terminal)
        deadline = time.monotonic() + seconds
        while True:
            prediction = client.status(prediction_id)
            if until(prediction):
                return prediction
            if time.monotonic() > deadline:
                raise AssertionError(f"prediction stuck at {prediction.status}")
            time.sleep(0.02)

    return wait


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
