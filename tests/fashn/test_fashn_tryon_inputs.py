"""TryOnInputs: the tryon-v1.6 inputs, validated on construction, and the run request they make."""

import pytest

from avatar_studio.fashn import TRYON_CATEGORIES, TRYON_MODES, TryOnInputs

MODEL = "data:image/jpeg;base64,/9j/4AAQ"
GARMENT = "https://cdn.example.com/shirt.png"


def test_every_input_is_sent_with_its_default():
    assert TryOnInputs(model_image=MODEL, garment_image=GARMENT).to_payload() == {
        "model_image": MODEL,
        "garment_image": GARMENT,
        "category": "auto",
        "mode": "balanced",
        "seed": 42,
        "num_samples": 1,
        "output_format": "jpeg",
        "return_base64": False,
    }


@pytest.mark.parametrize("category", TRYON_CATEGORIES)
@pytest.mark.parametrize("mode", TRYON_MODES)
def test_documented_categories_and_modes_are_accepted(category, mode):
    payload = TryOnInputs(MODEL, GARMENT, category=category, mode=mode).to_payload()
    assert (payload["category"], payload["mode"]) == (category, mode)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model_image": ""}, "model_image is required"),
        ({"garment_image": "file:///etc/passwd"}, "garment_image must be an http(s) URL"),
        ({"garment_image": "data:image/png,raw"}, "garment_image data URI must be base64"),
        ({"category": "shoes"}, "category must be one of auto, tops, bottoms, one-pieces"),
        ({"mode": "fast"}, "mode must be one of performance, balanced, quality"),
        ({"num_samples": 5}, "num_samples must be between 1 and 4"),
        ({"seed": True}, "seed must be an integer"),
        ({"return_base64": "yes"}, "return_base64 must be True or False"),
    ],
)
def test_bad_inputs_are_refused_with_a_specific_message(changes, message):
    fields = {"model_image": MODEL, "garment_image": GARMENT, **changes}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TryOnInputs(**fields)


def test_repr_shortens_data_uris():
    inputs = TryOnInputs("data:image/jpeg;base64," + "A" * 10_000, GARMENT)
    assert len(repr(inputs)) < 400
