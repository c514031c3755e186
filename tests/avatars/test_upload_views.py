"""The minimal browser flow: upload, job page, results and privacy (no worker needed)."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg, flat_image
from ..support.jobs import make_job

pytestmark = pytest.mark.django_db


def _form(face_image, **overrides):
    return {
        "face_image": face_image,
        "prompt": "curvy figure",
        "aspect_ratio": "3:4",
        "seed": "7",
        "output_format": "jpeg",
        **overrides,
    }


def _upload(data=None, name="me.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else astronaut_jpeg(), content_type)


def test_the_upload_page_needs_a_login(client):
    response = client.get(reverse("avatars:upload"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_upload_form_names_fields_after_the_protocol(client, alice):
    client.force_login(alice)

    page = client.get(reverse("avatars:upload")).content.decode()

    for field in ("face_image", "prompt", "aspect_ratio", "seed", "output_format", "return_base64"):
        assert f'name="{field}"' in page
    assert re.search(r'value="2:3"[^>]*checked', page)


def test_a_valid_upload_creates_a_job_and_opens_its_page(
    client, alice, django_capture_on_commit_callbacks, media_root
):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("avatars:upload"), _form(_upload()))

    job = AvatarJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("avatars:job", args=[job.pk])
    assert (job.owner, job.prompt, job.aspect_ratio, job.seed) == (alice, "curvy figure", "3:4", 7)
    assert job.status == "queued"
    assert len(callbacks) == 1  # the submit task, sent once the job is committed
    assert job.selfie.read(3) == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.jpg", "The submitted file is empty"),
        (b"%PDF-1.4 not a photo", "doc.jpg", "not a photo we can read"),
        (flat_image(size=(40, 40)), "tiny.png", "at least 64 pixels"),
        (astronaut_jpeg()[:3000], "cut.jpg", "damaged or incomplete"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(
    client, alice, media_root, data, name, message
):
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), _form(_upload(data, name)))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'value="curvy figure"' in response.content.decode()  # the other choices are kept
    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_exif_and_orientation_are_normalised(client, alice):
    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    Image.new("RGB", (300, 200), "red").save(buffer, "JPEG", exif=exif)
    client.force_login(alice)

    client.post(reverse("avatars:upload"), _form(_upload(buffer.getvalue())))

    with Image.open(AvatarJob.objects.get().selfie) as stored:
        assert stored.size == (200, 300)
        assert not stored.getexif()


def test_another_users_avatar_does_not_exist_for_you(client, alice, bob):
    job = make_job(alice)
    client.force_login(bob)

    for name in ("avatars:job", "avatars:job-status", "avatars:selfie"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("avatars:job-retry", args=[job.pk])).status_code == 404


def test_the_owner_and_staff_see_the_job(client, alice, staff):
    job = make_job(alice)

    for user in (alice, staff):
        client.force_login(user)
        assert client.get(reverse("avatars:job", args=[job.pk])).status_code == 200
        selfie = client.get(reverse("avatars:selfie", args=[job.pk]))
        assert selfie.status_code == 200
        assert selfie["Content-Type"] == "image/jpeg"
