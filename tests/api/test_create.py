"""POST /api/v1/avatars/: a selfie as a file or a data URI, the protocol's fields, consent."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from avatar_studio.api.serializers import FACE_IMAGE_KIND
from avatar_studio.avatars.consent import CONSENT_VERSION
from avatar_studio.avatars.models import AvatarJob

from ..support import crafted
from ..support.faces import astronaut_jpeg, flat_image

pytestmark = pytest.mark.django_db

URL = "/api/v1/avatars/"


def _upload(data=None, name="me.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else astronaut_jpeg(), content_type)


def _data_uri(data=None, kind="image/jpeg"):
    return f"data:{kind};base64," + base64.b64encode(data or astronaut_jpeg()).decode()


def _fields(**overrides):
    return {
        "prompt": "  curvy figure ",
        "aspect_ratio": "3:4",
        "seed": 7,
        "output_format": "png",
        "return_base64": True,
        "consent": True,
        **overrides,
    }


def _error(response):
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_a_multipart_upload_creates_a_job_with_consent_and_schedules_its_submission(
    alice_api, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_api.post(URL, _fields(face_image=_upload()), format="multipart")

    assert response.status_code == 201, response.content
    body = response.json()
    job = AvatarJob.objects.get()
    assert body["id"] == str(job.pk)
    assert response["Location"] == body["url"] == f"http://testserver/api/v1/avatars/{job.pk}/"
    assert body["status"] == "queued"
    assert body["progress"]["percent"] == 5 and body["progress"]["is_active"] is True
    assert body["warnings"] == []
    assert (job.owner, job.prompt, job.aspect_ratio, job.seed) == (alice, "curvy figure", "3:4", 7)
    assert (job.output_format, job.return_base64) == ("png", True)
    assert job.consent_version == CONSENT_VERSION and job.consented_at is not None
    assert job.selfie.read()[:3] == b"\xff\xd8\xff"  # stored as the normalised JPEG
    assert len(callbacks) == 1  # the submit step, sent once the job is committed


def test_a_json_body_with_a_data_uri_creates_a_job(alice_api):
    response = alice_api.post(URL, _fields(face_image=_data_uri()), format="json")

    assert response.status_code == 201, response.content
    assert AvatarJob.objects.get().seed == 7


def test_the_protocol_defaults_apply_when_fields_are_left_out(alice_api):
    response = alice_api.post(URL, {"face_image": _data_uri(), "consent": True}, format="json")

    assert response.status_code == 201, response.content
    job = AvatarJob.objects.get()
    assert (job.prompt, job.aspect_ratio, job.seed, job.output_format, job.return_base64) == (
        "",
        "2:3",
        42,
        "jpeg",
        False,
    )


def test_a_small_photo_is_accepted_with_the_browsers_warning(alice_api):
    small = astronaut_jpeg(size=200)

    response = alice_api.post(URL, _fields(face_image=_data_uri(small)), format="json")

    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "Your photo is small (200×200 pixels), so the avatar may look soft. A photo of 512 "
        "pixels or more gives a sharper result."
    ]


@pytest.mark.parametrize("consent", [False, None, "maybe"])
def test_without_consent_nothing_is_stored(alice_api, consent, media_root):
    fields = _fields(face_image=_data_uri(), consent=consent)

    response = alice_api.post(URL, fields, format="json")

    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["consent"]
    assert not AvatarJob.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.jpg"))


def test_consent_left_out_of_a_multipart_form_is_refused(alice_api):
    fields = _fields(face_image=_upload())
    del fields["consent"]

    response = alice_api.post(URL, fields, format="multipart")

    assert response.status_code == 400
    assert _error(response)["message"].startswith("Set consent to true")


def test_a_missing_selfie_gets_the_browsers_message(alice_api):
    response = alice_api.post(URL, _fields(), format="json")

    assert response.status_code == 400
    error = _error(response)
    assert error["message"] == "Choose a photo of your face to upload."
    assert error["fields"] == {"face_image": ["Choose a photo of your face to upload."]}


@pytest.mark.parametrize(
    ("data", "message_start"),
    [
        (b"", "The file is empty (0 bytes)"),
        (crafted.pdf_document(), "This is a PDF document, not a photo."),
        (crafted.html_page(), "This is a web page (HTML), not a photo."),
        (crafted.corrupt_jpeg(), "This JPEG file is damaged or incomplete"),
        (flat_image(image_format="GIF"), "GIF images are not accepted."),
        (crafted.animated("PNG"), "This is an animated PNG (APNG)"),
        (crafted.png_claiming_size(20_000, 20_000), "The image is over 179 megapixels"),
    ],
    ids=["empty", "pdf", "html", "truncated-jpeg", "gif", "apng", "pixel-bomb"],
)
@pytest.mark.parametrize("transport", ["multipart", "data-uri"])
def test_bad_uploads_get_the_browsers_messages(alice_api, data, message_start, transport):
    if transport == "multipart":
        response = alice_api.post(URL, _fields(face_image=_upload(data)), format="multipart")
    else:
        uri = "data:image/jpeg;base64," + base64.b64encode(data).decode()
        response = alice_api.post(URL, _fields(face_image=uri), format="json")

    assert response.status_code == 400, response.content
    error = _error(response)
    assert error["message"].startswith(message_start), error["message"]
    assert error["fields"]["face_image"] == [error["message"]]
    assert not AvatarJob.objects.exists()


@pytest.mark.parametrize(
    "data", [crafted.pdf_document(), crafted.corrupt_jpeg(), crafted.animated("WEBP"), b""]
)
def test_the_api_and_the_browser_form_say_the_same_words(alice_api, alice, client, data):
    client.force_login(alice)
    form = {**_fields(face_image=_upload(data)), "consent": "on", "return_base64": ""}
    browser = client.post("/", form).context["form"].errors["face_image"]

    response = alice_api.post(URL, _fields(face_image=_upload(data)), format="multipart")

    assert _error(response)["fields"]["face_image"] == list(browser)


def test_a_file_over_the_limit_is_refused_with_the_browsers_message(alice_api, settings):
    settings.SELFIE_MAX_UPLOAD_BYTES = 10_000

    response = alice_api.post(URL, _fields(face_image=_upload()), format="multipart")

    assert response.status_code == 400
    assert "MB limit. Upload a smaller photo" in _error(response)["message"]


def test_a_json_body_over_the_limit_is_refused_before_it_is_read(alice_api, settings):
    settings.SELFIE_MAX_UPLOAD_BYTES = 30_000
    big = astronaut_jpeg(size=1024)
    assert len(big) * 4 // 3 > 30_000 * 4 // 3 + 64 * 1024

    response = alice_api.post(URL, _fields(face_image=_data_uri(big)), format="json")

    assert response.status_code == 413
    error = _error(response)
    assert error["code"] == "request_too_large"
    assert "multipart" in error["message"]


@pytest.mark.parametrize(
    "face_image",
    ["not a data uri", "data:image/jpeg,notbase64", 12, ["x"]],
)
def test_a_face_image_that_is_not_a_file_data_uri_or_url_is_refused(alice_api, face_image):
    response = alice_api.post(URL, _fields(face_image=face_image), format="json")

    assert response.status_code == 400
    assert _error(response)["fields"]["face_image"] == [FACE_IMAGE_KIND]


def test_damaged_base64_is_refused(alice_api):
    response = alice_api.post(
        URL, _fields(face_image="data:image/jpeg;base64,@@@notbase64"), format="json"
    )

    assert response.status_code == 400
    assert "base64 text is damaged" in _error(response)["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aspect_ratio", "16:9"),
        ("output_format", "gif"),
        ("seed", -1),
        ("seed", 2**32),
        ("seed", "seven"),
        ("prompt", "x" * 301),
        ("return_base64", "perhaps"),
    ],
)
def test_bad_fields_are_named_in_the_error(alice_api, field, value):
    response = alice_api.post(URL, _fields(face_image=_data_uri(), **{field: value}), format="json")

    assert response.status_code == 400
    error = _error(response)
    assert list(error["fields"]) == [field]
    assert error["message"] == error["fields"][field][0]
    assert not AvatarJob.objects.exists()


def test_malformed_json_is_a_parse_error(alice_api):
    response = alice_api.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert _error(response)["code"] == "parse_error"


def test_an_unsupported_content_type_is_refused(alice_api):
    response = alice_api.post(URL, "face_image=x", content_type="text/plain")

    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"
