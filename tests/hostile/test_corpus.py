"""Every file of the hostile corpus through the browser form and through the API.

A refused file gets its own specific message, and leaves nothing behind: no job, no stored file,
no 500. An accepted one is stored as a clean JPEG: no EXIF, no ICC, no comments, nothing after
its end marker.
"""

import html
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.avatars import received_selfies
from avatar_studio.avatars.models import AvatarJob

from .corpus import CASES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle_left_over():
    cache.clear()  # the API's per-user throttles count in the cache


def _upload(case):
    return SimpleUploadedFile(case.filename, case.build(), case.content_type)


def _stored_files(media_root):
    files = (path for path in media_root.rglob("*") if path.is_file())
    return sorted(str(path.relative_to(media_root)) for path in files)


def _assert_clean_jpeg(job):
    """The selfie as FASHN is sent it: a HEIC, kept as received by the request, is normalised
    by the submit step first (``received_selfies``), and must then be a clean JPEG too."""
    if job.selfie.name.endswith(".heic"):
        assert received_selfies.normalise_received(job)
        job.refresh_from_db()
    assert job.selfie.name == f"selfies/{job.owner_id}/{job.pk}.jpg"
    with job.selfie.open("rb") as selfie:
        data = selfie.read()
    assert data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9")
    assert b"<html" not in data and b"Exif\x00\x00" not in data and b"ICC_PROFILE" not in data
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "JPEG" and image.mode == "RGB"
        assert not image.getexif() and "comment" not in image.info
        assert min(image.size) >= 64


def _seen(record, case, channel, outcome):
    record.setdefault(case.name, {"expected": case.refused or "accepted"})[channel] = outcome


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_upload_form(case, client, alice, media_root, hostile_record):
    client.force_login(alice)
    form = {"face_image": _upload(case), "prompt": "athletic build", "aspect_ratio": "2:3"}
    form.update({"seed": "42", "output_format": "jpeg", "consent": "on"})

    response = client.post(reverse("avatars:upload"), form)

    if case.accepted:
        job = AvatarJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("avatars:job", args=[job.pk])
        _assert_clean_jpeg(job)
        _seen(hostile_record, case, "form", "accepted: stored as a clean JPEG, job created")
    else:
        assert response.status_code == 200  # the form again, with the reason
        page = html.unescape(response.content.decode())
        assert case.refused in page
        assert not AvatarJob.objects.exists()
        assert _stored_files(media_root) == []
        _seen(hostile_record, case, "form", "refused: the form again, with the message")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_api(case, alice, media_root, hostile_record):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    fields = {"face_image": _upload(case), "consent": True, "prompt": "athletic build"}

    response = api.post("/api/v1/avatars/", fields, format="multipart")

    if case.accepted:
        assert response.status_code == 201, response.content
        job = AvatarJob.objects.get()
        _assert_clean_jpeg(job)
        _seen(hostile_record, case, "api", "accepted (201): stored as a clean JPEG")
    else:
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert any(case.refused in message for message in error["fields"]["face_image"])
        assert not AvatarJob.objects.exists()
        assert _stored_files(media_root) == []
        [message] = error["fields"]["face_image"]
        _seen(hostile_record, case, "api", f"refused (400): {message}")


def test_the_corpus_is_big_enough_and_names_are_unique():
    names = [case.name for case in CASES]
    assert len(names) >= 30
    assert len(set(names)) == len(names)
    assert sum(case.accepted for case in CASES) >= 10
    assert sum(not case.accepted for case in CASES) >= 20
