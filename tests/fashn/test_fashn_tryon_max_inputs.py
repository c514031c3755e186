"""TryOnMaxInputs: the tryon-max inputs, validated on construction, and what they cost."""

import re

import pytest

from avatar_studio import fashn
from avatar_studio.fashn import ASPECT_RATIOS, TRYON_MAX_GENERATION_MODES, TryOnMaxInputs

MODEL = "data:image/jpeg;base64,/9j/4AAQ"
PRODUCT = "https://cdn.example.com/shirt.png"


def test_only_what_is_set_is_sent_beyond_the_images_and_fixed_defaults():
    assert TryOnMaxInputs(model_image=MODEL, product_image=PRODUCT).to_payload() == {
        "model_image": MODEL,
        "product_image": PRODUCT,
        "seed": 42,
        "output_format": "jpeg",
        "return_base64": False,
    }


def test_every_optional_input_is_sent_when_set():
    payload = TryOnMaxInputs(
        model_image=MODEL,
        product_image=PRODUCT,
        prompt="tucked in",
        aspect_ratio="4:5",
        generation_mode="quality",
        num_images=3,
        seed=9,
        output_format="png",
        return_base64=True,
    ).to_payload()
    assert payload == {
        "model_image": MODEL,
        "product_image": PRODUCT,
        "prompt": "tucked in",
        "aspect_ratio": "4:5",
        "generation_mode": "quality",
        "num_images": 3,
        "seed": 9,
        "output_format": "png",
        "return_base64": True,
    }


def test_a_blank_prompt_is_left_out():
    assert "prompt" not in TryOnMaxInputs(MODEL, PRODUCT, prompt="   ").to_payload()


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
@pytest.mark.parametrize("mode", TRYON_MAX_GENERATION_MODES)
def test_documented_ratios_and_modes_are_accepted(ratio, mode):
    payload = TryOnMaxInputs(MODEL, PRODUCT, aspect_ratio=ratio, generation_mode=mode).to_payload()
    assert (payload["aspect_ratio"], payload["generation_mode"]) == (ratio, mode)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model_image": ""}, "model_image is required"),
        ({"product_image": None}, "product_image is required"),
        ({"product_image": "file:///etc/passwd"}, "product_image must be an http(s) URL"),
        ({"product_image": "data:image/png,raw"}, "product_image data URI must be base64"),
        ({"prompt": None}, "prompt must be a string"),
        ({"aspect_ratio": "16:9"}, "aspect_ratio must be one of"),
        ({"generation_mode": "fast"}, "generation_mode must be one of balanced, quality"),
        ({"num_images": 0}, "num_images must be between 1 and 4"),
        ({"num_images": 5}, "num_images must be between 1 and 4"),
        ({"num_images": True}, "num_images must be an integer"),
        ({"seed": -1}, "seed must be between"),
        ({"output_format": "webp"}, "output_format must be one of png, jpeg"),
        ({"return_base64": 1}, "return_base64 must be True or False"),
    ],
)
def test_bad_inputs_are_refused_with_a_specific_message(changes, message):
    fields = {"model_image": MODEL, "product_image": PRODUCT, **changes}
    with pytest.raises(ValueError, match=re.escape(message)):
        TryOnMaxInputs(**fields)


def test_repr_shortens_data_uris():
    inputs = TryOnMaxInputs("data:image/jpeg;base64," + "A" * 10_000, PRODUCT)
    assert len(repr(inputs)) < 500


# --- prices -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", TRYON_MAX_GENERATION_MODES)
def test_each_image_costs_four_credits(mode):
    for count in (1, 2, 4):
        assert fashn.tryon_max_credits_for(generation_mode=mode, num_images=count) == 4 * count


def test_left_to_fashn_the_mode_is_counted_at_its_dearest_and_one_image():
    dearest = max(fashn.TRYON_MAX_CREDITS_PER_IMAGE.values())
    assert fashn.tryon_max_credits_for() == dearest == 4


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"num_images": 0}, "num_images"),
        ({"num_images": 5}, "num_images"),
        ({"num_images": "2"}, "num_images"),
        ({"generation_mode": "fast"}, "generation_mode"),
    ],
)
def test_values_tryon_max_does_not_have_are_refused_by_name(inputs, field):
    with pytest.raises(ValueError, match=field):
        fashn.tryon_max_credits_for(**inputs)
