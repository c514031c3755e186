"""The upload page: login, the protocol's field names, consent, and what a valid upload does."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from avatar_studio.avatars.consent import CONSENT_VERSION
from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg

pytestmark = pytest.mark.django_db


def _form(face_image, **overrides):
    return {
        "face_image": face_image,
        "prompt": "curvy figure",
        "aspect_ratio": "3:4",
        "seed": "7",
        "output_format": "jpeg",
        "consent": "on",
        **overrides,
    }


def _upload(data=None, name="me.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else astronaut_jpeg(), content_type)


def test_anonymous_visitors_get_an_introduction_with_sign_up_and_log_in(client):
    page = client.get(reverse("avatars:upload")).content.decode()

    assert reverse("signup") in page
    assert reverse("login") in page
    assert 'name="face_image"' not in page


def test_the_upload_form_names_fields_after_the_protocol(client, alice):
    client.force_login(alice)

    page = client.get(reverse("avatars:upload")).content.decode()

    for field in ("face_image", "prompt", "aspect_ratio", "seed", "output_format", "return_base64"):
        assert f'name="{field}"' in page
    assert re.search(r'value="2:3"[^>]*checked', page)
    assert re.search(r'name="seed"[^>]*value="42"', page)
    for suggestion in ("athletic build", "curvy figure", "slender frame"):
        assert f'data-suggestion="{suggestion}"' in page
    assert not re.search(r'name="consent"[^>]*checked', page)
    assert reverse("privacy") in page


def test_a_valid_upload_creates_a_job_and_opens_its_page(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("avatars:upload"), _form(_upload()))

    job = AvatarJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("avatars:job", args=[job.pk])
    assert (job.owner, job.prompt, job.aspect_ratio, job.seed) == (alice, "curvy figure", "3:4", 7)
    assert (job.output_format, job.return_base64) == ("jpeg", False)
    assert job.status == "queued"
    assert job.consent_version == CONSENT_VERSION
    assert job.consented_at is not None
    assert len(callbacks) == 1  # the submit task, sent once the job is committed
    with job.selfie.open("rb") as selfie:
        assert selfie.read(3) == b"\xff\xd8\xff"


def test_no_consent_no_upload(client, alice, media_root):
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), _form(_upload(), consent=""))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Please tick the box to agree" in page
    assert 'value="curvy figure"' in page
    assert "choose your selfie again" in page
    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_private_delivery_maps_to_return_base64(client, alice):
    client.force_login(alice)

    client.post(reverse("avatars:upload"), _form(_upload(), return_base64="on"))

    assert AvatarJob.objects.get().return_base64 is True


def test_surprise_me_picks_a_random_seed(client, alice):
    client.force_login(alice)

    for _ in range(3):
        client.post(reverse("avatars:upload"), _form(_upload(), seed="", surprise_me="on"))

    seeds = set(AvatarJob.objects.values_list("seed", flat=True))
    assert len(seeds) == 3
    assert all(0 <= seed < 2**32 for seed in seeds)


def test_an_empty_seed_means_the_default(client, alice):
    client.force_login(alice)

    client.post(reverse("avatars:upload"), _form(_upload(), seed=""))

    assert AvatarJob.objects.get().seed == 42


def test_a_seed_out_of_range_is_refused(client, alice):
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), _form(_upload(), seed=str(2**32)))

    assert "less than or equal to 4294967295" in response.content.decode()
    assert not AvatarJob.objects.exists()


def test_exif_orientation_is_applied_and_metadata_dropped(client, alice):
    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    Image.new("RGB", (300, 200), "red").save(buffer, "JPEG", exif=exif)
    client.force_login(alice)

    client.post(reverse("avatars:upload"), _form(_upload(buffer.getvalue())))

    with Image.open(AvatarJob.objects.get().selfie) as stored:
        assert stored.size == (200, 300)
        assert not stored.getexif()


def test_a_small_selfie_goes_through_with_a_note(client, alice):
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(astronaut_jpeg())).resize((200, 200)).save(buffer, "JPEG")
    client.force_login(alice)

    response = client.post(
        reverse("avatars:upload"), _form(_upload(buffer.getvalue())), follow=True
    )

    assert AvatarJob.objects.exists()
    assert "may look soft" in response.content.decode()
