"""tryon-max through the engine's HTTP protocol, as the app's FashnClient.run_tryon_max sends it.

Real HTTP on loopback to the session's engine: schema problems are 400 BadRequest before any
prediction exists; outputs take the asked aspect ratio, one distinct image per seed+k; credits
are FASHN's 4 per image; processing time per mode comes from the config; and the picture keeps
more of the garment photo than tryon-v1.6's does.
"""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
import requests
from PIL import Image

from avatar_studio.fashn import (
    FashnClient,
    PredictionStatus,
    TryOnMaxInputs,
    tryon_max_credits_for,
)
from avatar_studio.fashn.pricing import TRYON_MAX_CREDITS_PER_IMAGE as CLIENT_TABLE
from offline_engine.avatar.renderer import render_avatar
from offline_engine.protocol.pricing import TRYON_MAX_CREDITS_PER_IMAGE
from offline_engine.tryon import renderer as tryon
from offline_engine.tryon.garment import cut_out
from tests.support import garments

from .conftest import data_uri

MODEL_SIZE = (832, 1248)  # the engine's 2:3 avatar


def png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model_png(face_jpeg) -> bytes:
    """An avatar made by this engine: what the app sends as a try-on's model image."""
    return png(render_avatar(face_jpeg, "2:3", 42).rgb)


@pytest.fixture(scope="module")
def model_uri(model_png) -> str:
    return data_uri(model_png, "image/png")


@pytest.fixture(scope="module")
def product_uri() -> str:
    striped = garments.tshirt((30, 90, 180), stripes=(240, 200, 40))
    return data_uri(garments.png_bytes(striped), "image/png")


@pytest.fixture(autouse=True)
def _poll_freely(engine):
    """These tests poll every few milliseconds; the status limit is tested elsewhere."""
    engine.configure(status_limit=10_000)


@pytest.fixture
def client(engine):
    with FashnClient(engine.api_key, engine.url) as fashn:
        yield fashn


def post_run(engine, inputs: dict):
    return requests.post(
        f"{engine.url}/v1/run",
        json={"model_name": "tryon-max", "inputs": inputs},
        headers={"Authorization": f"Bearer {engine.api_key}"},
        timeout=10,
    )


def wait_status(engine, prediction_id: str, seconds: float = 20.0) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = requests.get(
            f"{engine.url}/v1/status/{prediction_id}",
            headers={"Authorization": f"Bearer {engine.api_key}"},
            timeout=5,
        )
        if response.json()["status"] not in ("starting", "in_queue", "processing"):
            return response
        assert time.monotonic() < deadline, f"stuck at {response.json()['status']}"
        time.sleep(0.02)


def decode(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])


# --- validation: BadRequest before a prediction exists ------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model_image": None}, "model_image"),
        ({"product_image": None}, "product_image"),
        ({"model_image": 7}, "model_image"),
        ({"product_image": ["x"]}, "product_image"),
        ({"product_image": "  "}, "product_image"),
        ({"prompt": 3}, "prompt"),
        ({"aspect_ratio": "16:9"}, "aspect_ratio"),
        ({"aspect_ratio": 1.5}, "aspect_ratio"),
        ({"generation_mode": "fast"}, "generation_mode"),  # face-to-model has it; max does not
        ({"generation_mode": "performance"}, "generation_mode"),
        ({"num_images": 0}, "num_images"),
        ({"num_images": 5}, "num_images"),
        ({"num_images": "2"}, "num_images"),
        ({"num_images": True}, "num_images"),
        ({"output_format": "webp"}, "output_format"),
        ({"return_base64": "yes"}, "return_base64"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"seed": 4.5}, "seed"),
    ],
)
def test_schema_problems_are_bad_request_and_create_no_prediction(
    engine, model_uri, product_uri, change, field
):
    inputs = {"model_image": model_uri, "product_image": product_uri, **change}
    inputs = {key: value for key, value in inputs.items() if value is not None}
    response = post_run(engine, inputs)
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"
    assert f"inputs.{field}" in response.json()["message"]
    stats = engine.stats()
    assert stats["runs_accepted"] == 0
    assert stats["predictions"] == {}
    assert stats["credits_used"] == 0


def test_tryon_v16s_garment_image_is_not_max_s_product_image(engine, model_uri, product_uri):
    response = post_run(engine, {"model_image": model_uri, "garment_image": product_uri})
    assert response.status_code == 400
    assert "inputs.product_image is required" in response.json()["message"]
    assert engine.stats()["runs_accepted"] == 0


def test_unknown_keys_are_ignored_and_nulls_take_the_defaults(engine, model_uri, product_uri):
    inputs = {
        "model_image": model_uri,
        "product_image": product_uri,
        "category": "tops",  # v1.6's input: max has none, and unknown keys are ignored
        "aspect_ratio": None,
        "generation_mode": None,
        "num_images": None,
    }
    response = post_run(engine, inputs)
    assert response.status_code == 200, response.text
    stored = engine.app.store.get(response.json()["id"]).inputs
    assert (stored.aspect_ratio, stored.generation_mode, stored.num_images) == (None, "balanced", 1)


# --- outputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", ["1:1", "4:5", "3:4", "2:3", "9:16"])
def test_outputs_take_the_aspect_ratio(engine, model_uri, product_uri, ratio):
    response = post_run(
        engine,
        {"model_image": model_uri, "product_image": product_uri, "aspect_ratio": ratio},
    )
    assert response.status_code == 200, response.text
    doc = wait_status(engine, response.json()["id"]).json()
    assert doc["status"] == "completed", doc
    image = Image.open(io.BytesIO(requests.get(doc["output"][0], timeout=5).content))
    a, b = map(int, ratio.split(":"))
    width, height = image.size
    assert width * b == height * a  # exactly the ratio
    assert width <= MODEL_SIZE[0] and height <= MODEL_SIZE[1]
    assert max(width / MODEL_SIZE[0], height / MODEL_SIZE[1]) > 0.95  # the largest such crop


def test_no_aspect_ratio_keeps_the_model_images_size_and_defaults_are_png(
    engine, model_uri, product_uri
):
    response = post_run(engine, {"model_image": model_uri, "product_image": product_uri})
    doc = wait_status(engine, response.json()["id"]).json()
    assert doc["status"] == "completed", doc
    body = requests.get(doc["output"][0], timeout=5).content
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(body)).size == MODEL_SIZE


def test_num_images_are_distinct_and_each_is_the_seed_plus_k_image(
    engine, client, model_uri, product_uri
):
    inputs = TryOnMaxInputs(
        model_image=model_uri,
        product_image=product_uri,
        num_images=3,
        seed=7,
        output_format="png",
        return_base64=True,
    )
    prediction_id = client.run_tryon_max(inputs)
    response = wait_status(engine, prediction_id)
    doc = response.json()
    assert doc["status"] == "completed", doc
    images = [decode(uri) for uri in doc["output"]]
    assert len(images) == 3
    assert len(set(images)) == 3
    # Image k alone, seeded 7+k, is the same picture: a candidate can be made again.
    again = client.run_tryon_max(
        TryOnMaxInputs(
            model_image=model_uri,
            product_image=product_uri,
            seed=8,
            output_format="png",
            return_base64=True,
        )
    )
    assert decode(wait_status(engine, again).json()["output"][0]) == images[1]


@pytest.mark.parametrize("mode", ["balanced", "quality", None])
def test_credits_are_four_per_image_in_the_header(engine, model_uri, product_uri, mode):
    inputs = {"model_image": model_uri, "product_image": product_uri, "num_images": 2}
    if mode is not None:
        inputs["generation_mode"] = mode
    before = engine.stats()["credits"]
    response = wait_status(engine, post_run(engine, inputs).json()["id"])
    assert response.json()["status"] == "completed"
    assert response.headers["x-fashn-credits-used"] == "8"
    assert engine.stats()["credits"] == before - 8
    assert tryon_max_credits_for(generation_mode=mode, num_images=2) == 8


def test_a_failed_run_costs_nothing(engine, client, model_uri):
    not_an_image = data_uri(b"not an image", "image/png")
    prediction_id = client.run_tryon_max(
        TryOnMaxInputs(model_image=model_uri, product_image=not_an_image)
    )
    response = wait_status(engine, prediction_id)
    doc = response.json()
    assert doc["status"] == "failed"
    assert doc["error"]["name"] == "ImageLoadError"
    assert "product image" in doc["error"]["message"]
    assert response.headers["x-fashn-credits-used"] == "0"


def test_processing_time_per_mode_comes_from_the_config(engine, model_uri, product_uri):
    engine.configure(
        processing_seconds=30,
        tryon_max_processing_seconds_balanced=50,
        tryon_max_processing_seconds_quality=90,
        processing_seconds_quality=120,  # face-to-model's: not max's
    )
    expected = {"balanced": 50, "quality": 90, None: 50}
    for mode, seconds in expected.items():
        inputs = {"model_image": model_uri, "product_image": product_uri}
        if mode is not None:
            inputs["generation_mode"] = mode
        prediction_id = post_run(engine, inputs).json()["id"]
        assert engine.app.store.get(prediction_id).schedule.processing == seconds
    engine.configure(tryon_max_processing_seconds_quality=None)
    prediction_id = post_run(
        engine,
        {"model_image": model_uri, "product_image": product_uri, "generation_mode": "quality"},
    ).json()["id"]
    assert engine.app.store.get(prediction_id).schedule.processing == 30


def test_completes_through_the_client(engine, client, model_uri, product_uri):
    prediction_id = client.run_tryon_max(
        TryOnMaxInputs(model_image=model_uri, product_image=product_uri, aspect_ratio="4:5")
    )
    response = wait_status(engine, prediction_id)
    assert response.json()["status"] == "completed"
    prediction = client.status(prediction_id)
    assert prediction.status is PredictionStatus.COMPLETED
    assert prediction.credits_used == 4
    assert prediction.outputs[0].endswith("/0.jpg")  # the client's default format


# --- prices -------------------------------------------------------------------------------------


def test_the_engines_table_matches_the_web_apps_copy():
    assert TRYON_MAX_CREDITS_PER_IMAGE == CLIENT_TABLE == {"balanced": 4, "quality": 4}


# --- faithfulness -------------------------------------------------------------------------------


def colour_histogram(pixels: np.ndarray) -> np.ndarray:
    counts, _ = np.histogramdd(pixels.reshape(-1, 3), bins=8, range=[(0, 256)] * 3)
    return counts.ravel() / counts.sum()


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between two colour histograms: 0 same colours, 1 none shared."""
    return 0.5 * float(np.abs(a - b).sum())


@pytest.mark.parametrize(
    "garment",
    [
        garments.tshirt((30, 90, 180), stripes=(240, 200, 40)),
        garments.dress(),
        garments.hoodie(),
        garments.blouse(),
    ],
    ids=["striped-tshirt", "dress", "hoodie", "blouse"],
)
def test_max_keeps_the_garment_photos_colours_better_than_v16(model_png, garment):
    product = garments.png_bytes(garment)
    cut = cut_out(product)
    photo = colour_histogram(cut.rgb[cut.alpha > 0.95])
    person = tryon.person_for(model_png).rgb
    v16, _ = tryon.render_tryon(model_png, product, "auto", 42)
    best, _ = tryon.render_tryon_max(model_png, product, 42, None)
    # The garment region: where both pictures changed the model image.
    changed_v16 = np.abs(v16.astype(int) - person).sum(axis=-1) > 30
    changed_max = np.abs(best.astype(int) - person).sum(axis=-1) > 30
    region = changed_v16 & changed_max
    assert region.mean() > 0.05  # a garment was put on, not a few stray pixels
    v16_distance = histogram_distance(colour_histogram(v16[region]), photo)
    max_distance = histogram_distance(colour_histogram(best[region]), photo)
    assert max_distance < v16_distance - 0.05, (max_distance, v16_distance)
