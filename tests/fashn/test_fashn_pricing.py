"""FASHN's credit table: per image by mode and resolution, times the number of images."""

import pytest

from avatar_studio import fashn


@pytest.mark.parametrize(
    "mode, resolution, per_image",
    [
        ("fast", "1k", 1),
        ("fast", "2k", 2),
        ("fast", "4k", 3),
        ("balanced", "1k", 2),
        ("balanced", "2k", 3),
        ("balanced", "4k", 4),
        ("quality", "1k", 3),
        ("quality", "2k", 4),
        ("quality", "4k", 5),
    ],
)
def test_each_image_costs_what_fashn_charges_for_its_mode_and_resolution(
    mode, resolution, per_image
):
    for count in (1, 2, 4):
        cost = fashn.credits_for(generation_mode=mode, resolution=resolution, num_images=count)
        assert cost == per_image * count


def test_left_to_fashn_the_mode_is_counted_at_its_dearest_and_the_size_at_1k():
    assert fashn.credits_for() == 3
    assert fashn.credits_for(resolution="4k", num_images=2) == 10
    assert fashn.credits_for(generation_mode="fast") == 1


@pytest.mark.parametrize(
    "inputs, field",
    [
        ({"num_images": 0}, "num_images"),
        ({"num_images": 5}, "num_images"),
        ({"num_images": True}, "num_images"),
        ({"resolution": "8k"}, "resolution"),
        ({"generation_mode": "best"}, "generation_mode"),
    ],
)
def test_values_the_protocol_does_not_have_are_refused_by_name(inputs, field):
    with pytest.raises(ValueError, match=field):
        fashn.credits_for(**inputs)
