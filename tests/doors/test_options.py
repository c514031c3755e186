"""One rule, one home: the browser and the API offer and refuse the same quality, image size and
number of images, because both ask ``avatars.options``; a staff change of the maxima reaches both
at once."""

import base64
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def narrow_options(settings):
    settings.AVATAR_MAX_RESOLUTION = "1k"
    settings.AVATAR_MAX_NUM_IMAGES = 2


def _browser_post(client, **fields):
    upload = SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg")
    data = {"face_image": upload, "aspect_ratio": "2:3", "output_format": "jpeg", "consent": "on"}
    return client.post(reverse("avatars:upload"), {**data, **fields})


def _api_post(user, **fields):
    client = APIClient()
    client.force_authenticate(user)
    selfie = "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg()).decode()
    return client.post(
        "/api/v1/avatars/", {"face_image": selfie, "consent": True, **fields}, format="json"
    )


def test_both_doors_offer_what_the_settings_allow(client, alice, narrow_options):
    client.force_login(alice)

    page = client.get(reverse("avatars:upload")).content.decode()

    assert re.findall(r'name="resolution" value="([^"]+)"', page) == ["1k"]
    assert re.findall(r'name="num_images" value="([^"]+)"', page) == ["1", "2"]
    spec = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    enums = spec["components"]["schemas"]
    assert enums["ResolutionEnum"]["enum"] == ["1k"]
    assert enums["NumImagesEnum"]["enum"] == [1, 2]


@pytest.mark.parametrize("field, value", [("resolution", "2k"), ("num_images", "3")])
def test_both_doors_refuse_a_value_over_the_maximum_listing_the_same_values(
    client, alice, narrow_options, field, value
):
    client.force_login(alice)

    page = html.unescape(_browser_post(client, **{field: value}).content.decode())
    error = _api_post(alice, **{field: value}).json()["error"]["fields"][field][0]

    allowed = {"resolution": "1k", "num_images": "1, 2"}[field]
    assert f"Choose one of: {allowed}." in page
    assert error == f"{field} must be one of: {allowed}. Choose one of these."
    assert not AvatarJob.objects.exists()
