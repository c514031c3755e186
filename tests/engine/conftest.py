"""Fixtures for the offline engine's own tests: real HTTP on loopback, no Django, no Redis.

``engine_server`` (one engine for the session) comes from tests/conftest.py; ``engine`` here
resets it without touching Django settings, and the two autouse fixtures of tests/conftest.py
that need Redis and Django media are replaced by no-ops: the engine uses neither.
"""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
import requests
from PIL import Image

TERMINAL = ("completed", "failed", "canceled", "time_out")


@pytest.fixture(autouse=True)
def _clean_redis():
    """The engine keeps no state in Redis."""
    yield


@pytest.fixture(autouse=True)
def media_root(tmp_path):
    """The engine stores nothing in Django media."""
    return tmp_path / "media"


@pytest.fixture
def engine(engine_server):
    engine_server.reset()
    yield engine_server


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    """A real face: scikit-image's astronaut (Eileen Collins, public domain), 512x512."""
    from skimage import data

    return Image.fromarray(data.astronaut())


@pytest.fixture(scope="session")
def grace_hopper() -> bytes:
    """A second real face: Grace Hopper's US Navy portrait (public domain), with glasses and a
    cap in front of a flag, as matplotlib ships it; carried in tools/samples/."""
    from tools.engine_contact_sheet import SAMPLES

    return (SAMPLES / "grace_hopper.jpg").read_bytes()


@pytest.fixture(scope="session")
def face_jpeg(astronaut) -> bytes:
    return jpeg_bytes(astronaut)


@pytest.fixture(scope="session")
def face_uri(face_jpeg) -> str:
    return data_uri(face_jpeg)


class Api:
    """A thin requests client for the engine's FASHN endpoints, as a real client calls them."""

    def __init__(self, engine, face_uri: str) -> None:
        self.engine = engine
        self.url = engine.url
        self.face_uri = face_uri

    def headers(self, fault=None, key=None) -> dict:
        headers = {"Authorization": f"Bearer {key or self.engine.api_key}"}
        if fault is not None:
            headers["X-Engine-Fault"] = json.dumps(fault)
        return headers

    def run(self, *, fault=None, params=None, timeout=5, **inputs) -> requests.Response:
        inputs.setdefault("face_image", self.face_uri)
        body = {"model_name": "face-to-model", "inputs": inputs}
        return requests.post(
            f"{self.url}/v1/run",
            json=body,
            headers=self.headers(fault),
            params=params,
            timeout=timeout,
        )

    def submit(self, **inputs) -> str:
        response = self.run(**inputs)
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def status(self, prediction_id: str, *, fault=None, timeout=5) -> requests.Response:
        return requests.get(
            f"{self.url}/v1/status/{prediction_id}", headers=self.headers(fault), timeout=timeout
        )

    def wait(self, prediction_id: str, seconds: float = 60.0) -> requests.Response:
        """Poll until terminal; the last status response.

        The pause between polls grows (20 ms up to 250 ms) so a render slowed by a loaded
        machine stays inside the engine's status rate limit (50 in 10 s); ``seconds`` only
        guards against a hang.
        """
        deadline = time.monotonic() + seconds
        pause = 0.02
        while True:
            response = self.status(prediction_id)
            assert response.status_code == 200, response.text
            if response.json()["status"] in TERMINAL:
                return response
            assert time.monotonic() < deadline, f"stuck at {response.json()['status']}"
            time.sleep(pause)
            pause = min(0.25, pause * 1.5)

    def complete(self, **inputs) -> dict:
        """Run to completion; the status document."""
        doc = self.wait(self.submit(**inputs)).json()
        assert doc["status"] == "completed", doc
        return doc


@pytest.fixture
def api(engine, face_uri) -> Api:
    return Api(engine, face_uri)
