"""An upload while S3 is out of reach: every door answers 503 with the same words, and nothing
is saved (no job, no credits reserved, no object)."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from avatar_studio.avatars.models import AvatarJob
from avatar_studio.avatars.refusals import STORAGE_UNAVAILABLE
from avatar_studio.credits.models import CreditUse

from ..support.faces import astronaut_jpeg
from .conftest import bucket_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _nothing_saved(s3_storage, user):
    assert not AvatarJob.objects.filter(owner=user).exists()
    assert not CreditUse.objects.filter(owner=user).exists()
    assert bucket_keys(s3_storage) == []


def test_the_upload_page_says_the_photo_could_not_be_stored(client, s3_storage, s3_proxy, alice):
    client.force_login(alice)
    s3_proxy.cut()

    response = client.post(
        reverse("avatars:upload"),
        {
            "face_image": SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg"),
            "prompt": "athletic build",
            "aspect_ratio": "2:3",
            "seed": "7",
            "output_format": "png",
            "consent": "on",
        },
    )

    assert s3_proxy.refused > 0
    assert response.status_code == 503
    assert STORAGE_UNAVAILABLE.message in response.content.decode()
    _nothing_saved(s3_storage, alice)


def test_the_api_answers_503_with_a_retry_after(s3_storage, s3_proxy, alice):
    api = APIClient()
    api.force_authenticate(alice)
    selfie = "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg()).decode()
    s3_proxy.cut()

    response = api.post(
        "/api/v1/avatars/",
        {"face_image": selfie, "prompt": "athletic build", "consent": True},
        format="json",
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert response.json()["error"]["message"] == STORAGE_UNAVAILABLE.message
    assert response["Retry-After"] == "30"
    _nothing_saved(s3_storage, alice)
