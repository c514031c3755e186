"""tryon-v1.6 through the engine's HTTP protocol, as the app's FashnClient.run_tryon sends it.

Real HTTP on loopback to the session's engine: the schema's 400s, the happy path with outputs
served by the engine or as data URIs, credits per sample, determinism, runtime errors
(ImageLoadError, PoseError), injected faults and webhooks work for a try-on as for face-to-model.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from PIL import Image

from avatar_studio.fashn import FashnClient, OutOfCreditsError, PredictionStatus, TryOnInputs
from offline_engine.avatar.renderer import render_avatar
from offline_engine.tryon import renderer as tryon
from tests.support import garments
from tests.support.faces import flat_image

from .conftest import data_uri

MODEL_SIZE = (832, 1248)


@pytest.fixture(scope="module")
def model_png(face_jpeg) -> bytes:
    """An avatar made by this engine: what the app sends as a try-on's model image."""
    buffer = io.BytesIO()
    Image.fromarray(render_avatar(face_jpeg, "2:3", 42).rgb).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model_uri(model_png) -> str:
    return data_uri(model_png, "image/png")


@pytest.fixture(scope="module")
def garment_uri() -> str:
    return data_uri(garments.png_bytes(garments.tshirt()), "image/png")


@pytest.fixture(autouse=True)
def _poll_freely(engine):
    """These tests poll every few milliseconds; the status limit is tested elsewhere."""
    engine.configure(status_limit=10_000)


@pytest.fixture
def client(engine):
    with FashnClient(engine.api_key, engine.url) as fashn:
        yield fashn


def wait(client: FashnClient, prediction_id: str, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while True:
        prediction = client.status(prediction_id)
        if prediction.is_terminal:
            return prediction
        assert time.monotonic() < deadline, f"stuck at {prediction.status}"
        time.sleep(0.02)


def post_run(engine, inputs: dict, *, headers: dict | None = None, params=None):
    return requests.post(
        f"{engine.url}/v1/run",
        json={"model_name": "tryon-v1.6", "inputs": inputs},
        headers={"Authorization": f"Bearer {engine.api_key}", **(headers or {})},
        params=params,
        timeout=10,
    )


def decode_data_uri(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])


def test_run_tryon_completes_with_an_image_the_size_of_the_model_image(
    engine, client, model_uri, garment_uri
):
    balance = client.credits().total
    prediction_id = client.run_tryon(
        TryOnInputs(
            model_image=model_uri, garment_image=garment_uri, category="tops", output_format="png"
        )
    )
    prediction = wait(client, prediction_id)
    assert prediction.status is PredictionStatus.COMPLETED, prediction.error
    assert prediction.credits_used == 1
    assert len(prediction.outputs) == 1
    assert prediction.outputs[0].startswith(f"{engine.url}/v1/outputs/{prediction_id}/0.png")
    image = requests.get(prediction.outputs[0], timeout=5)
    assert image.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == MODEL_SIZE
    assert client.credits().total == balance - 1


def test_defaults_are_png_one_sample_auto_category(engine, model_uri, garment_uri):
    response = post_run(engine, {"model_image": model_uri, "garment_image": garment_uri})
    assert response.status_code == 200, response.text
    with FashnClient(engine.api_key, engine.url) as client:
        prediction = wait(client, response.json()["id"])
    assert prediction.is_completed
    assert [url.rsplit("/", 1)[1] for url in prediction.outputs] == ["0.png"]
    body = requests.get(prediction.outputs[0], timeout=5).content
    assert body.startswith(b"\x89PNG\r\n\x1a\n")


def test_num_samples_gives_distinct_outputs_and_costs_one_credit_each(
    engine, client, model_uri, garment_uri
):
    prediction = wait(
        client,
        client.run_tryon(
            TryOnInputs(
                model_image=model_uri,
                garment_image=garment_uri,
                num_samples=3,
                output_format="jpeg",
                return_base64=True,
            )
        ),
    )
    assert prediction.is_completed, prediction.error
    assert prediction.credits_used == 3
    assert len(prediction.outputs) == 3
    assert all(uri.startswith("data:image/jpeg;base64,") for uri in prediction.outputs)
    images = [decode_data_uri(uri) for uri in prediction.outputs]
    assert len(set(images)) == 3  # seeds seed, seed+1, seed+2: three fits
    assert all(Image.open(io.BytesIO(i)).size == MODEL_SIZE for i in images)
    assert engine.stats()["credits_used"] == 3


def test_same_inputs_give_the_same_bytes_another_seed_other_bytes(
    engine, client, model_uri, garment_uri
):
    def render(seed: int) -> bytes:
        inputs = TryOnInputs(
            model_image=model_uri, garment_image=garment_uri, seed=seed, return_base64=True
        )
        prediction = wait(client, client.run_tryon(inputs))
        assert prediction.is_completed, prediction.error
        return decode_data_uri(prediction.outputs[0])

    first = render(7)
    tryon.person_for.clear()  # the same bytes again from scratch, not from the cache
    tryon.garment_for.clear()
    assert render(7) == first
    assert render(8) != first


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model_image": None}, "model_image"),
        ({"garment_image": None}, "garment_image"),
        ({"model_image": 5}, "model_image"),
        ({"garment_image": "   "}, "garment_image"),
        ({"category": "shoes"}, "category"),
        ({"category": "Tops"}, "category"),
        ({"mode": "fast"}, "mode"),
        ({"num_samples": 0}, "num_samples"),
        ({"num_samples": 5}, "num_samples"),
        ({"num_samples": "2"}, "num_samples"),
        ({"num_samples": True}, "num_samples"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"output_format": "webp"}, "output_format"),
        ({"return_base64": "yes"}, "return_base64"),
    ],
)
def test_schema_problems_are_400_naming_the_field_and_create_nothing(
    engine, model_uri, garment_uri, change, field
):
    inputs = {"model_image": model_uri, "garment_image": garment_uri, **change}
    inputs = {key: value for key, value in inputs.items() if value is not None}
    response = post_run(engine, inputs)
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"
    assert f"inputs.{field}" in response.json()["message"]
    assert engine.stats()["runs_accepted"] == 0


def test_unknown_keys_are_ignored_and_nulls_take_the_defaults(engine, model_uri, garment_uri):
    inputs = {
        "model_image": model_uri,
        "garment_image": garment_uri,
        "garment_photo_type": "flat-lay",
        "category": None,
        "num_samples": None,
    }
    assert post_run(engine, inputs).status_code == 200


def test_every_category_and_mode_is_accepted(engine, client, model_uri, garment_uri):
    for category, mode in zip(
        ("auto", "tops", "bottoms", "one-pieces"),
        ("performance", "balanced", "quality", "balanced"),
        strict=True,
    ):
        inputs = TryOnInputs(
            model_image=model_uri, garment_image=garment_uri, category=category, mode=mode
        )
        assert wait(client, client.run_tryon(inputs)).is_completed


@pytest.mark.parametrize("which", ["model_image", "garment_image"])
def test_an_unreadable_image_fails_with_image_load_error_and_costs_nothing(
    engine, client, model_uri, garment_uri, which
):
    inputs = {"model_image": model_uri, "garment_image": garment_uri}
    inputs[which] = "data:image/png;base64," + base64.b64encode(b"not an image").decode()
    prediction = wait(client, client.run_tryon(TryOnInputs(**inputs)))
    assert prediction.status is PredictionStatus.FAILED
    assert prediction.error.name == "ImageLoadError"
    assert which.split("_")[0] in prediction.error.message  # "model" or "garment"
    assert prediction.outputs == []
    assert engine.stats()["credits_used"] == 0


def test_a_url_off_this_machine_is_never_fetched(engine, client, model_uri):
    inputs = TryOnInputs(model_image=model_uri, garment_image="https://example.com/tee.png")
    prediction = wait(client, client.run_tryon(inputs))
    assert prediction.error.name == "ImageLoadError"
    assert "loopback" in prediction.error.message


def test_a_model_image_without_a_person_fails_with_pose_error(engine, client, garment_uri):
    blank = data_uri(flat_image((600, 900), (200, 200, 200)), "image/png")
    prediction = wait(client, client.run_tryon(TryOnInputs(blank, garment_uri)))
    assert prediction.status is PredictionStatus.FAILED
    assert prediction.error.name == "PoseError"
    assert not prediction.error.retryable


def test_injected_prediction_faults_apply_to_tryon(engine, model_uri, garment_uri):
    fault = {"on": "prediction", "error_name": "PipelineError"}
    response = post_run(
        engine,
        {"model_image": model_uri, "garment_image": garment_uri},
        headers={"X-Engine-Fault": json.dumps(fault)},
    )
    with FashnClient(engine.api_key, engine.url) as client:
        prediction = wait(client, response.json()["id"])
    assert prediction.error.name == "PipelineError"
    assert prediction.error.retryable


def test_limits_apply_to_tryon_too(engine, client, model_uri, garment_uri):
    engine.configure(credits=2)
    with pytest.raises(OutOfCreditsError) as refused:
        client.run_tryon(TryOnInputs(model_uri, garment_uri, num_samples=3))
    assert refused.value.status_code == 429
    assert engine.stats()["rejected"] == {"OutOfCredits": 1}


class _Hooks(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_receives_the_status_json_when_a_tryon_completes(
    engine, client, model_uri, garment_uri
):
    _Hooks.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_port}/hooks/fashn"
        prediction_id = client.run_tryon(TryOnInputs(model_uri, garment_uri), webhook_url=hook)
        assert wait(client, prediction_id).is_completed
        deadline = time.monotonic() + 5
        while not _Hooks.received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.shutdown()
        server.server_close()
    assert [(doc["id"], doc["status"]) for doc in _Hooks.received] == [(prediction_id, "completed")]
    assert len(_Hooks.received[0]["output"]) == 1


def test_the_index_lists_every_model(engine):
    assert requests.get(f"{engine.url}/", timeout=5).json()["models"] == [
        "face-to-model",
        "tryon-v1.6",
        "tryon-max",
    ]


def test_the_official_sdk_runs_a_tryon(engine, model_uri, garment_uri):
    import fashn

    sdk = fashn.Fashn(api_key=engine.api_key, base_url=engine.url, max_retries=0)
    result = sdk.predictions.subscribe(
        model_name="tryon-v1.6",
        inputs={"model_image": model_uri, "garment_image": garment_uri, "category": "tops"},
        poll_interval=50,
    )
    assert result.status == "completed"
    assert result.error is None
    assert len(result.output) == 1
    image = requests.get(result.output[0], timeout=5)
    assert Image.open(io.BytesIO(image.content)).size == MODEL_SIZE


def test_a_tryon_follows_the_configured_processing_schedule(engine, client, model_uri, garment_uri):
    # A second in each state: polls every few hundredths of a second see every one of them,
    # even when a busy machine delays some of the polls (so many that the status rate limit is
    # lifted out of their way).
    engine.configure(
        starting_seconds=1, in_queue_seconds=1, processing_seconds=1, status_limit=1000
    )
    prediction_id = client.run_tryon(TryOnInputs(model_uri, garment_uri))
    seen = []
    while True:
        prediction = client.status(prediction_id)
        seen.append(prediction.status)
        if prediction.is_terminal:
            break
        time.sleep(0.02)
    # The prediction ran on the configured schedule (the engine derives each status from it).
    assert engine.app.store.get(prediction_id).schedule.total == 3
    assert seen[0] is PredictionStatus.STARTING
    assert {PredictionStatus.IN_QUEUE, PredictionStatus.PROCESSING} <= set(seen)
    assert seen[-1] is PredictionStatus.COMPLETED
