"""FaceToModelInputs: validation on construction and the ``inputs`` payload it produces."""

import dataclasses

import pytest

from avatar_studio.fashn import (
    ASPECT_RATIOS,
    GENERATION_MODES,
    OUTPUT_FORMATS,
    RESOLUTIONS,
    SEED_MAX,
    FaceToModelInputs,
)

FACE = "https://cdn.example.com/selfie.jpg"


def test_defaults_are_sent_and_optional_fields_left_out():
    assert FaceToModelInputs(face_image=FACE).to_payload() == {
        "face_image": FACE,
        "aspect_ratio": "2:3",
        "seed": 42,
        "output_format": "jpeg",
        "return_base64": False,
    }


def test_every_field_is_sent_when_set():
    inputs = FaceToModelInputs(
        face_image="data:image/png;base64,iVBORw0KGgo=",
        prompt="athletic build",
        aspect_ratio="9:16",
        seed=SEED_MAX,
        output_format="png",
        return_base64=True,
        resolution="2k",
        generation_mode="quality",
        num_images=4,
    )
    assert inputs.to_payload() == {
        "face_image": "data:image/png;base64,iVBORw0KGgo=",
        "prompt": "athletic build",
        "aspect_ratio": "9:16",
        "seed": SEED_MAX,
        "output_format": "png",
        "return_base64": True,
        "resolution": "2k",
        "generation_mode": "quality",
        "num_images": 4,
    }


def test_blank_prompt_is_omitted():
    assert "prompt" not in FaceToModelInputs(face_image=FACE, prompt="   ").to_payload()


def test_constants_list_the_documented_values():
    assert ASPECT_RATIOS == ("1:1", "4:5", "3:4", "2:3", "9:16")
    assert OUTPUT_FORMATS == ("png", "jpeg")
    assert RESOLUTIONS == ("1k", "2k", "4k")
    assert GENERATION_MODES == ("fast", "balanced", "quality")
    for ratio in ASPECT_RATIOS:
        assert FaceToModelInputs(face_image=FACE, aspect_ratio=ratio).aspect_ratio == ratio


def test_inputs_are_frozen():
    inputs = FaceToModelInputs(face_image=FACE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        inputs.seed = 1


def test_repr_shortens_a_data_uri():
    inputs = FaceToModelInputs(face_image="data:image/jpeg;base64," + "A" * 10_000)
    assert len(repr(inputs)) < 400


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"face_image": ""}, "face_image is required"),
        ({"face_image": "   "}, "face_image is required"),
        ({"face_image": "ftp://x/y.jpg"}, "http\\(s\\) URL or a data:image"),
        ({"face_image": "/tmp/selfie.jpg"}, "http\\(s\\) URL or a data:image"),
        ({"face_image": "data:image/png,rawbytes"}, "must be base64"),
        ({"prompt": None}, "prompt must be a string"),
        ({"aspect_ratio": "16:9"}, "aspect_ratio must be one of 1:1, 4:5, 3:4, 2:3, 9:16"),
        ({"seed": -1}, "seed must be between 0 and 4294967295"),
        ({"seed": 2**32}, "seed must be between 0 and 4294967295"),
        ({"seed": "42"}, "seed must be an integer"),
        ({"seed": True}, "seed must be an integer"),
        ({"output_format": "webp"}, "output_format must be one of png, jpeg"),
        ({"return_base64": "yes"}, "return_base64 must be True or False"),
        ({"resolution": "8k"}, "resolution must be one of 1k, 2k, 4k"),
        ({"generation_mode": "turbo"}, "generation_mode must be one of fast, balanced"),
        ({"num_images": 0}, "num_images must be between 1 and 4"),
        ({"num_images": 5}, "num_images must be between 1 and 4"),
        ({"num_images": 2.0}, "num_images must be an integer"),
    ],
)
def test_invalid_inputs_are_refused_with_a_specific_message(fields, message):
    with pytest.raises(ValueError, match=message):
        FaceToModelInputs(**{"face_image": FACE, **fields})
