"""avatars.options: the choices offered from the settings, checked at start-up, their sizes in
pixels and their cost, always from FASHN's credit table."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from avatar_studio import fashn
from avatar_studio.avatars import options


def test_the_defaults_are_balanced_1k_one_image_up_to_2k_and_four(settings):
    offered = options.current()

    assert offered.defaults() == {
        "generation_mode": "balanced",
        "resolution": "1k",
        "num_images": 1,
    }
    assert offered.resolutions == ("1k", "2k")
    assert offered.num_images_choices == (1, 2, 3, 4)
    assert offered.generation_modes == ("fast", "balanced", "quality")


def test_the_maxima_narrow_the_choices(settings):
    settings.AVATAR_MAX_RESOLUTION = "4k"
    settings.AVATAR_MAX_NUM_IMAGES = 2

    offered = options.current()

    assert offered.resolutions == ("1k", "2k", "4k")
    assert offered.num_images_choices == (1, 2)


@pytest.mark.parametrize(
    "name, value",
    [
        ("AVATAR_DEFAULT_GENERATION_MODE", "best"),
        ("AVATAR_DEFAULT_RESOLUTION", "8k"),
        ("AVATAR_MAX_RESOLUTION", "2K"),
        ("AVATAR_MAX_NUM_IMAGES", 5),
        ("AVATAR_MAX_NUM_IMAGES", 0),
        ("AVATAR_DEFAULT_NUM_IMAGES", 0),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(settings, name, value):
    setattr(settings, name, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        apps.get_app_config("avatars").ready()


def test_a_default_above_its_maximum_is_refused(settings):
    settings.AVATAR_DEFAULT_RESOLUTION = "4k"
    with pytest.raises(ImproperlyConfigured, match="AVATAR_DEFAULT_RESOLUTION"):
        options.current()

    settings.AVATAR_DEFAULT_RESOLUTION = "1k"
    settings.AVATAR_MAX_NUM_IMAGES = 2
    settings.AVATAR_DEFAULT_NUM_IMAGES = 3
    with pytest.raises(ImproperlyConfigured, match="AVATAR_DEFAULT_NUM_IMAGES"):
        options.current()


@pytest.mark.parametrize(
    "resolution, ratio, size",
    [
        ("1k", "2:3", (832, 1248)),
        ("1k", "1:1", (1024, 1024)),
        ("2k", "2:3", (1664, 2496)),
        ("4k", "9:16", (3024, 5376)),
    ],
)
def test_sizes_are_the_images_fashn_makes(resolution, ratio, size):
    assert options.image_size(resolution, ratio) == size


def test_every_size_is_about_its_megapixels_in_its_ratio():
    for resolution, megapixels in {"1k": 1, "2k": 4, "4k": 16}.items():
        for ratio in fashn.ASPECT_RATIOS:
            width, height = options.image_size(resolution, ratio)
            ratio_width, ratio_height = (int(side) for side in ratio.split(":"))
            assert 0.95 <= width * height / (megapixels * 2**20) <= 1.05
            assert width * ratio_height == height * ratio_width


def test_the_estimate_is_fashns_price_for_a_mapping_or_a_job():
    class Job:
        generation_mode, resolution, num_images = "quality", "2k", 3

    chosen = {"generation_mode": "quality", "resolution": "2k", "num_images": 3}

    assert options.estimated_credits(chosen) == 12
    assert options.estimated_credits(Job()) == 12
    # Left to FASHN (older jobs): counted at the dearest mode, never less than it may cost.
    assert options.estimated_credits({"generation_mode": "", "resolution": ""}) == 3


def test_the_price_table_holds_every_combination_offered_and_nothing_else(settings):
    settings.AVATAR_MAX_NUM_IMAGES = 2

    table = options.price_table()

    expected = {
        f"{mode}|{size}|{count}": fashn.credits_for(
            generation_mode=mode, resolution=size, num_images=count
        )
        for mode in fashn.GENERATION_MODES
        for size in ("1k", "2k")
        for count in (1, 2)
    }
    assert table["credits"] == expected
    assert table["sizes"]["2:3"] == {"1k": "Standard (832×1248 px)", "2k": "Large (1664×2496 px)"}


def test_check_fills_in_the_defaults_and_refuses_what_is_not_offered(settings):
    settings.AVATAR_DEFAULT_GENERATION_MODE = "fast"

    completed = options.check({"prompt": "", "resolution": ""})

    assert completed == {
        "prompt": "",
        "generation_mode": "fast",
        "resolution": "1k",
        "num_images": 1,
    }
    with pytest.raises(ValueError, match="resolution must be one of: 1k, 2k"):
        options.check({"resolution": "4k"})
    with pytest.raises(ValueError, match="num_images must be one of: 1, 2, 3, 4"):
        options.check({"num_images": 5})
