"""The upload form's quality, image size and number of images: defaults and choices from the
settings, the cost shown by the server for what is chosen, and values not offered refused."""

import html
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from avatar_studio import fashn
from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg

pytestmark = pytest.mark.django_db

URL = reverse("avatars:upload")


def _form(**overrides):
    fields = {
        "face_image": SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg"),
        "prompt": "",
        "aspect_ratio": "2:3",
        "seed": "7",
        "output_format": "jpeg",
        "generation_mode": "balanced",
        "resolution": "1k",
        "num_images": "1",
        "consent": "on",
        **overrides,
    }
    return {name: value for name, value in fields.items() if value is not None}


def _checked(page, name):
    return re.findall(rf'name="{name}" value="([^"]+)"[^>]*checked', page)


def _offered(page, name):
    return re.findall(rf'name="{name}" value="([^"]+)"', page)


def _price_table(page):
    match = re.search(r'data-price-table="([^"]*)"', page)
    return json.loads(html.unescape(match[1]))


def test_the_form_starts_from_the_settings_defaults_and_shows_their_cost(client, alice, settings):
    settings.AVATAR_DEFAULT_GENERATION_MODE = "quality"
    settings.AVATAR_DEFAULT_RESOLUTION = "2k"
    settings.AVATAR_DEFAULT_NUM_IMAGES = 2
    client.force_login(alice)

    page = client.get(URL).content.decode()

    assert _checked(page, "generation_mode") == ["quality"]
    assert _checked(page, "resolution") == ["2k"]
    assert _checked(page, "num_images") == ["2"]
    assert "This uses 8 credits" in page  # quality at 2k, 4 credits an image, twice
    for words in ("Quick draft (about 20 s)", "Balanced (about 1 min)", "Best quality"):
        assert words in page
    assert "Standard (832×1248 px)" in page and "Large (1664×2496 px)" in page
    assert "How many to choose from: 1–4" in page


def test_the_choices_stop_at_the_maxima(client, alice, settings):
    settings.AVATAR_MAX_NUM_IMAGES = 2
    client.force_login(alice)

    page = client.get(URL).content.decode()

    assert _offered(page, "resolution") == ["1k", "2k"]  # no 4k unless allowed
    assert _offered(page, "num_images") == ["1", "2"]
    assert not [key for key in _price_table(page)["credits"] if "4k" in key or key.endswith("|3")]

    settings.AVATAR_MAX_RESOLUTION = "4k"
    page = client.get(URL).content.decode()
    assert _offered(page, "resolution") == ["1k", "2k", "4k"]


def test_the_pages_price_table_is_fashns_for_every_combination(client, alice):
    client.force_login(alice)

    table = _price_table(client.get(URL).content.decode())

    assert len(table["credits"]) == 3 * 2 * 4
    for key, credits in table["credits"].items():
        mode, resolution, count = key.split("|")
        assert credits == fashn.credits_for(
            generation_mode=mode, resolution=resolution, num_images=int(count)
        )
    assert table["sizes"]["1:1"]["1k"] == "Standard (1024×1024 px)"


def test_the_chosen_values_are_stored_on_the_job(client, alice):
    client.force_login(alice)

    response = client.post(URL, _form(generation_mode="fast", resolution="2k", num_images="3"))

    assert response.status_code == 302
    job = AvatarJob.objects.get()
    assert (job.generation_mode, job.resolution, job.num_images) == ("fast", "2k", 3)


def test_left_out_they_take_the_settings_defaults(client, alice, settings):
    settings.AVATAR_DEFAULT_GENERATION_MODE = "fast"
    client.force_login(alice)

    client.post(URL, _form(generation_mode=None, resolution=None, num_images=None))

    job = AvatarJob.objects.get()
    assert (job.generation_mode, job.resolution, job.num_images) == ("fast", "1k", 1)


def test_after_a_refusal_the_page_shows_the_cost_of_what_was_chosen(client, alice):
    client.force_login(alice)

    response = client.post(
        URL, _form(generation_mode="quality", resolution="2k", num_images="3", consent="")
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "This uses 12 credits" in page
    assert _checked(page, "generation_mode") == ["quality"]
    assert _checked(page, "num_images") == ["3"]
    assert not AvatarJob.objects.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("resolution", "4k", "That image size is not offered here. Choose one of: 1k, 2k."),
        ("resolution", "8k", "That image size is not offered here. Choose one of: 1k, 2k."),
        ("generation_mode", "best", "That quality is not offered here. Choose one of: fast, "),
        ("num_images", "0", "That number of images is not offered here. Choose one of: 1, 2, 3"),
        ("num_images", "5", "That number of images is not offered here. Choose one of: 1, 2, 3"),
    ],
)
def test_values_not_offered_are_refused_by_name_and_nothing_is_stored(
    client, alice, media_root, field, value, message
):
    client.force_login(alice)

    response = client.post(URL, _form(**{field: value}))

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "This uses 2 credits" in page  # the refused value falls back to the default's cost
    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_seed_format_and_private_delivery_wait_behind_advanced(client, alice):
    client.force_login(alice)

    page = client.get(URL).content.decode()

    advanced = re.search(r'<details class="field advanced">(.*?)</details>', page, re.DOTALL)
    assert advanced and "<summary>Advanced</summary>" in advanced[1]
    for name in ("seed", "surprise_me", "output_format", "return_base64"):
        assert f'name="{name}"' in advanced[1]
    for name in ("generation_mode", "resolution", "num_images"):
        assert f'name="{name}"' not in advanced[1]


def test_a_bad_seed_opens_advanced_to_show_its_error(client, alice):
    client.force_login(alice)

    page = client.post(URL, _form(seed=str(2**32))).content.decode()

    assert '<details class="field advanced" open>' in page
