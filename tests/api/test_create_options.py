"""POST /api/v1/avatars/ with generation_mode, resolution and num_images: the same options as
the upload form, the estimate in credits, values not offered refused by name, and the schema."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg

pytestmark = pytest.mark.django_db

URL = "/api/v1/avatars/"


def _data_uri():
    return "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg()).decode()


def _fields(**overrides):
    return {"face_image": _data_uri(), "consent": True, **overrides}


def test_the_chosen_options_are_stored_and_shown_with_their_credits(alice_api):
    response = alice_api.post(
        URL, _fields(generation_mode="quality", resolution="2k", num_images=3), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["generation_mode"], body["resolution"], body["num_images"]) == (
        "quality",
        "2k",
        3,
    )
    assert body["credits"] == 12
    job = AvatarJob.objects.get()
    assert (job.generation_mode, job.resolution, job.num_images) == ("quality", "2k", 3)
    assert alice_api.get(body["url"]).json()["credits"] == 12


def test_left_out_they_take_the_settings_defaults(alice_api, settings):
    settings.AVATAR_DEFAULT_GENERATION_MODE = "fast"
    settings.AVATAR_DEFAULT_NUM_IMAGES = 2

    body = alice_api.post(URL, _fields(), format="json").json()

    assert (body["generation_mode"], body["resolution"], body["num_images"]) == ("fast", "1k", 2)
    assert body["credits"] == 2


def test_a_multipart_form_sends_them_as_text(alice_api):
    upload = SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg")
    fields = _fields(face_image=upload, generation_mode="fast", resolution="2k", num_images="4")

    response = alice_api.post(URL, fields, format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["credits"] == 8
    assert AvatarJob.objects.get().num_images == 4


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("num_images", 0, "1, 2, 3, 4"),
        ("num_images", 5, "1, 2, 3, 4"),
        ("num_images", 2.5, "1, 2, 3, 4"),
        ("num_images", True, "1, 2, 3, 4"),
        ("resolution", "8k", "1k, 2k"),
        ("resolution", "4k", "1k, 2k"),  # in the protocol, over this service's maximum
        ("generation_mode", "best", "fast, balanced, quality"),
    ],
)
def test_values_not_offered_get_a_400_naming_the_field_and_nothing_is_stored(
    alice_api, media_root, field, value, allowed
):
    response = alice_api.post(URL, _fields(**{field: value}), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == [field]
    assert error["fields"][field] == [f"{field} must be one of: {allowed}. Choose one of these."]
    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


@pytest.mark.parametrize("format", ["json", "multipart"])
def test_a_field_the_api_does_not_support_is_refused_by_name_and_nothing_is_stored(
    alice_api, media_root, format
):
    face_image = _data_uri()
    if format == "multipart":
        face_image = SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg")
    fields = _fields(face_image=face_image, num_image="4")  # a typo of num_images

    response = alice_api.post(URL, fields, format=format)

    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["num_image"]
    assert message.startswith("This field is not supported here. Send only: ")
    assert "num_images" in message
    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_a_higher_maximum_allows_4k(alice_api, settings):
    settings.AVATAR_MAX_RESOLUTION = "4k"

    response = alice_api.post(URL, _fields(resolution="4k", num_images=2), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["credits"] == 8  # balanced at 4k, 4 credits an image


def test_the_schema_lists_the_options_and_the_credits(client):
    spec = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    schemas = spec["components"]["schemas"]
    for name in ("AvatarCreateJSONRequest", "AvatarCreateMultipartRequest"):
        properties = schemas[name]["properties"]
        assert {"generation_mode", "resolution", "num_images"} <= set(properties), name
    avatar = schemas["Avatar"]["properties"]
    assert {"generation_mode", "resolution", "num_images", "credits"} <= set(avatar)
    assert avatar["credits"]["type"] == "integer"
    text = str(schemas)
    assert "'1k', '2k'" in text and "'4k'" not in text  # the enum offered, up to the maximum
