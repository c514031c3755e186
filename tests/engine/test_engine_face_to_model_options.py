"""face-to-model's resolution, generation_mode and num_images, honoured as FASHN honours them:
output sizes, distinct reproducible candidates, processing time per mode, credits by the table."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
import requests
from PIL import Image

from offline_engine import EngineConfig
from offline_engine.avatar.renderer import (
    BASE_SIZES,
    RenderOptions,
    output_size,
    render_avatars,
    upscaled,
    variant_seeds,
)
from offline_engine.protocol import predictions
from offline_engine.protocol.inputs import FaceToModelInputs
from offline_engine.protocol.predictions import PredictionStore, Schedule
from offline_engine.protocol.pricing import FACE_TO_MODEL_CREDITS_PER_IMAGE

MEGAPIXEL = 2**20  # 1024 x 1024, FASHN's "1k" square
RESOLUTION_MEGAPIXELS = {"1k": 1, "2k": 4, "4k": 16}


def fetch(url: str) -> bytes:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.content


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


# --- output sizes -------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", list(RESOLUTION_MEGAPIXELS))
@pytest.mark.parametrize("ratio", list(BASE_SIZES))
def test_sizes_are_about_1_4_16_megapixels_at_the_aspect_ratio(ratio, resolution):
    w, h = output_size(ratio, resolution)
    megapixels = RESOLUTION_MEGAPIXELS[resolution]
    assert w * h == pytest.approx(megapixels * MEGAPIXEL, rel=0.04)
    a, b = map(int, ratio.split(":"))
    assert w / h == pytest.approx(a / b, rel=0.01)


def test_1k_sizes_are_unchanged():
    assert output_size("2:3", "1k") == (832, 1248)
    assert output_size("1:1", "1k") == (1024, 1024)
    assert output_size("9:16", "1k") == (756, 1344)


def test_the_upscale_step_reaches_the_4k_size_and_keeps_the_picture():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (78, 52, 3), dtype=np.uint8)
    small = np.repeat(np.repeat(small, 16, axis=0), 16, axis=1)  # 832x1248 of flat blocks
    big = upscaled(small, output_size("2:3", "4k"))
    assert big.size == (3328, 4992)
    back = np.asarray(big.resize((832, 1248), Image.Resampling.BOX)).astype(int)
    # Block interiors come back as they were; only the blocks' edges ring a little.
    assert np.median(np.abs(back - small)) <= 1


def test_a_4k_prediction_is_16_megapixels_and_charged_per_the_table(api):
    response = api.wait(
        api.submit(aspect_ratio="1:1", resolution="4k", generation_mode="quality"), seconds=60
    )
    doc = response.json()
    assert doc["status"] == "completed", doc
    assert size_of(fetch(doc["output"][0])) == (4096, 4096)
    assert response.headers["x-fashn-credits-used"] == "5"


# --- num_images: distinct candidates, each reproducible from its own seed ----------------------


def test_num_images_gives_n_distinct_urls_each_the_image_of_seed_plus_k(api):
    doc = api.complete(seed=100, num_images=4)
    images = [fetch(url) for url in doc["output"]]
    assert len(images) == 4 and len(set(images)) == 4
    for k in (0, 3):
        alone = api.complete(seed=100 + k)
        assert fetch(alone["output"][0]) == images[k]


def test_num_images_with_return_base64_gives_n_data_uris(api):
    doc = api.complete(num_images=3, return_base64=True, resolution="2k")
    decoded = [base64.b64decode(uri.split(",", 1)[1]) for uri in doc["output"]]
    assert len(set(decoded)) == 3
    assert {size_of(image) for image in decoded} == {(1664, 2496)}


def test_candidate_seeds_wrap_past_the_largest_seed(face_jpeg):
    assert variant_seeds(2**32 - 2, 3) == [2**32 - 2, 2**32 - 1, 0]
    pair = render_avatars(face_jpeg, RenderOptions(seed=2**32 - 1, num_images=2))
    assert pair[1] == render_avatars(face_jpeg, RenderOptions(seed=0))[0]


# --- processing time per generation_mode --------------------------------------------------------


def test_processing_time_per_mode_comes_from_the_config(api, engine):
    engine.configure(
        processing_seconds=30, processing_seconds_fast=20, processing_seconds_quality=120
    )
    expected = {"fast": 20, "balanced": 30, "quality": 120, None: 30}
    for mode, seconds in expected.items():
        prediction_id = api.submit(generation_mode=mode)
        assert engine.app.store.get(prediction_id).schedule.processing == seconds
        assert api.status(prediction_id).json()["status"] == "processing"

    engine.configure(processing_seconds_balanced=60)
    omitted = api.submit()  # no generation_mode: the engine's choice, balanced
    assert engine.app.store.get(omitted).schedule.processing == 60


def test_per_mode_processing_time_from_the_environment_and_the_control_api(api, engine):
    config = EngineConfig.from_env(
        {"ENGINE_PROCESSING_SECONDS_FAST": "2.5", "ENGINE_PROCESSING_SECONDS": "9"}
    )
    assert config.processing_seconds_for("fast") == 2.5
    assert config.processing_seconds_for("quality") == 9
    assert config.processing_seconds_for(None) == 9  # a model with no generation_mode
    with pytest.raises(ValueError):
        EngineConfig.from_env({"ENGINE_PROCESSING_SECONDS_QUALITY": "-1"})

    headers = api.headers()
    url = f"{api.url}/_engine/config"
    body = requests.post(url, json={"processing_seconds_quality": 45}, headers=headers, timeout=5)
    assert body.json()["processing_seconds_quality"] == 45
    body = requests.post(url, json={"processing_seconds_quality": None}, headers=headers, timeout=5)
    assert body.json()["processing_seconds_quality"] is None
    refused = requests.post(url, json={"processing_seconds_fast": "x"}, headers=headers, timeout=5)
    assert refused.status_code == 400


# --- credits ------------------------------------------------------------------------------------


def test_the_engines_table_is_fashns():
    published = {"fast": (1, 2, 3), "balanced": (2, 3, 4), "quality": (3, 4, 5)}
    table = {
        (mode, resolution): credits
        for mode, row in published.items()
        for resolution, credits in zip(("1k", "2k", "4k"), row, strict=True)
    }
    assert table == FACE_TO_MODEL_CREDITS_PER_IMAGE


def test_the_engines_sizes_are_the_ones_the_web_app_announces():
    from avatar_studio.fashn import image_size

    for ratio in BASE_SIZES:
        for resolution in RESOLUTION_MEGAPIXELS:
            assert output_size(ratio, resolution) == image_size(resolution, ratio)


def test_the_engines_table_matches_the_web_apps_copy():
    from avatar_studio.fashn.pricing import CREDITS_PER_IMAGE

    assert FACE_TO_MODEL_CREDITS_PER_IMAGE == CREDITS_PER_IMAGE


@pytest.mark.parametrize(
    ("inputs", "credits"),
    [
        ({"generation_mode": "fast"}, 1),
        ({}, 2),  # mode omitted: balanced; resolution omitted: 1k
        ({"generation_mode": "quality", "num_images": 3}, 9),
        ({"generation_mode": "balanced", "resolution": "2k", "num_images": 2}, 6),
        ({"generation_mode": "fast", "resolution": "2k"}, 2),
    ],
)
def test_credits_header_and_balance_follow_the_table(api, engine, inputs, credits):
    engine.configure(credits=100)
    response = api.wait(api.submit(**inputs), seconds=30)
    assert response.json()["status"] == "completed"
    assert response.headers["x-fashn-credits-used"] == str(credits)
    balance = requests.get(f"{api.url}/v1/credits", headers=api.headers(), timeout=5).json()
    assert balance["credits"]["total"] == 100 - credits


def test_a_run_the_balance_cannot_pay_for_is_refused(api, engine):
    engine.configure(credits=4)
    response = api.run(generation_mode="quality", resolution="4k")  # 5 credits
    assert response.status_code == 429
    assert response.json()["error"] == "OutOfCredits"
    assert "needs 5, 4 available" in response.json()["message"]
    assert engine.stats()["runs_accepted"] == 0


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("resolution", "8k", '"1k", "2k", "4k"'),
        ("generation_mode", "best", '"fast", "balanced", "quality"'),
        ("num_images", 0, "between 1 and 4"),
        ("num_images", 5, "between 1 and 4"),
        ("num_images", 2.5, "from 1 to 4"),
    ],
)
def test_bad_values_are_400_naming_the_field_and_the_allowed_values(api, field, value, allowed):
    response = api.run(**{field: value})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "BadRequest"
    assert f"inputs.{field}" in body["message"] and allowed in body["message"]


# --- memory -------------------------------------------------------------------------------------


def test_kept_outputs_are_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(predictions, "MAX_KEPT_IMAGE_BYTES", 250)
    store = PredictionStore(lambda inputs: [b"x" * 100], credits=100)
    try:
        made = []
        for _ in range(4):
            p = store.create(
                FaceToModelInputs(face_image="x"),
                schedule=Schedule(0, 0, 0),
                max_in_flight=6,
                base_url="http://127.0.0.1",
            )
            while not p.rendered:  # the render pool finishes it; no time limit is asserted
                time.sleep(0.01)
            assert store.get(p.id).status == "completed"
            made.append(p.id)
        # 300 bytes were kept when the fourth came: the oldest was forgotten to fit 250.
        assert store.get(made[0]) is None
        assert all(store.get(pid) is not None for pid in made[1:])
    finally:
        store.close()
