"""The official ``fashn`` Python SDK, pointed at the engine with ``base_url``, works unchanged."""

from __future__ import annotations

import io
import time

import fashn
import httpx
import pytest
from PIL import Image


def test_sdk_subscribe_completes_with_outputs(engine, face_uri):
    client = fashn.Fashn(api_key=engine.api_key, base_url=engine.url, max_retries=0)
    updates = []
    result = client.predictions.subscribe(
        model_name="face-to-model",
        inputs={"face_image": face_uri, "prompt": "slender frame", "output_format": "png"},
        poll_interval=50,
        on_queue_update=lambda status: updates.append(status.status),
    )
    assert result.status == "completed"
    assert result.error is None
    assert result.credits_used == 2  # no generation_mode: the engine picks balanced, at 1k
    assert len(result.output) == 1
    image = httpx.get(result.output[0], timeout=5)
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (832, 1248)
    assert updates[-1] == "completed"
    assert engine.stats()["runs_accepted"] == 1


def test_sdk_run_and_status_report_a_runtime_failure(engine):
    client = fashn.Fashn(api_key=engine.api_key, base_url=engine.url, max_retries=0)
    run = client.predictions.run(
        model_name="face-to-model",
        inputs={"face_image": "https://example.com/face.jpg"},  # refused: not loopback
    )
    assert run.id and run.error is None
    deadline = time.monotonic() + 5
    status = client.predictions.status(run.id)
    while status.status in ("starting", "in_queue", "processing"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
        status = client.predictions.status(run.id)
    assert status.status == "failed"
    assert status.error.name == "ImageLoadError"
    assert status.output is None


def test_sdk_sees_api_errors_as_its_exceptions(engine, face_uri):
    bad = fashn.Fashn(api_key="wrong", base_url=engine.url, max_retries=0)
    with pytest.raises(fashn.AuthenticationError) as refused:
        bad.predictions.run(model_name="face-to-model", inputs={"face_image": face_uri})
    assert refused.value.status_code == 401
    assert refused.value.body["error"] == "UnauthorizedAccess"

    client = fashn.Fashn(api_key=engine.api_key, base_url=engine.url, max_retries=0)
    with pytest.raises(fashn.NotFoundError):
        client.predictions.status("no-such-prediction")
    with pytest.raises(fashn.BadRequestError):
        client.predictions.run(
            model_name="face-to-model", inputs={"face_image": face_uri, "seed": -5}
        )
    engine.configure(credits=0)
    with pytest.raises(fashn.RateLimitError) as limited:
        client.predictions.run(model_name="face-to-model", inputs={"face_image": face_uri})
    assert limited.value.body["error"] == "OutOfCredits"
