"""HEIC selfies off the upload's critical path: checked in the request without decoding, stored
as received for a moment, and replaced by the normalised JPEG (no EXIF, no GPS) in the
pipeline's first step, before anything is sent; a damaged one is refused in the request (form
and API) when its container or coded data show it, and fails its job clearly when only the full
decode does."""

import base64
import io
import random
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.avatars import received_selfies, retention
from avatar_studio.avatars.images import (
    DAMAGED_HEIC,
    ReceivedHeic,
    SelfieRejected,
    check_selfie,
    normalise_selfie,
)
from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..support import crafted
from ..support.crafted import RED, close_to, corner_colours, encode, quadrants
from ..support.faces import astronaut_jpeg
from ..support.jobs import make_job, wait_until_finished

LIMIT = 15 * 1024 * 1024


def _heic_with_gps():
    """A portrait photo stored on its side with EXIF orientation 6 and a GPS position."""
    stored, _exif = crafted.stored_rotated(quadrants((600, 900)), 6)
    heic = encode(stored, "HEIF", exif=crafted.gps_exif(orientation=6).tobytes())
    assert heic[4:12] == b"ftypheic"
    return heic


def _face_heic_with_gps():
    """A real face (the engine looks for one), as a phone's HEIC with a GPS position."""
    face = Image.open(io.BytesIO(astronaut_jpeg()))
    return encode(face, "HEIF", exif=crafted.gps_exif().tobytes())


def _image_data_start(heic):
    return heic.index(b"mdat") + 4


def _truncated(heic):
    return heic[: len(heic) * 2 // 3]


def _zero_filled(heic):
    """The header and boxes intact, the coded picture data all zeros (a half-written copy)."""
    start = _image_data_start(heic)
    return heic[:start] + bytes(len(heic) - start)


def _overwritten(heic):
    """Random bytes over the start of the coded data, where its first unit's length is."""
    start = _image_data_start(heic)
    noise = random.Random(2).randbytes(16)
    return heic[:start] + noise + heic[start + 16 :]


def _broken_parameter_sets(heic):
    """A byte of the HEVC parameter sets in the container's hvcC box flipped: the boxes and the
    coded data are sound, but libheif cannot decode the picture."""
    data = bytearray(heic)
    data[heic.index(b"hvcC") + 4 + 59] ^= 0xFF
    return bytes(data)


DAMAGED_IN_THE_REQUEST = [
    pytest.param(_truncated, id="truncated"),
    pytest.param(_zero_filled, id="valid-header-zero-filled-data"),
    pytest.param(_overwritten, id="valid-header-overwritten-data"),
]


def _check(data):
    return check_selfie(SimpleUploadedFile("IMG_0001.HEIC", data, "image/heic"), max_bytes=LIMIT)


def _form(data):
    return {
        "face_image": SimpleUploadedFile("IMG_0001.HEIC", data, "image/heic"),
        "prompt": "slender frame, tall",
        "aspect_ratio": "3:4",
        "seed": "1234",
        "output_format": "jpeg",
        "consent": "on",
    }


def _stored_files(media_root):
    return sorted(path.suffix for path in media_root.rglob("*") if path.is_file())


def _assert_clean_jpeg(data, size, upright=True):
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert image.size == size
    assert not image.getexif()
    assert b"Exif\x00\x00" not in data
    if upright:  # the quadrants picture: red top-left
        assert close_to(corner_colours(image.convert("RGB"))[0], RED)


def test_a_heic_is_checked_without_being_decoded():
    heic = _heic_with_gps()

    selfie = _check(heic)

    assert isinstance(selfie, ReceivedHeic)
    assert selfie.content == heic
    assert (selfie.width, selfie.height) == (600, 900)  # upright, from the header
    assert selfie.file_name.endswith(".heic")


@pytest.mark.parametrize("damage", DAMAGED_IN_THE_REQUEST)
def test_a_damaged_heic_is_refused_in_the_request(damage):
    with pytest.raises(SelfieRejected) as caught:
        _check(damage(_heic_with_gps()))

    assert str(caught.value) == DAMAGED_HEIC


def test_a_heic_that_only_the_full_decode_finds_damaged_passes_the_request_checks():
    """The case the pipeline's step catches (below): nothing short of decoding sees it."""
    damaged = _broken_parameter_sets(_heic_with_gps())

    assert isinstance(_check(damaged), ReceivedHeic)
    with pytest.raises(SelfieRejected, match="HEIC file is damaged"):
        normalise_selfie(io.BytesIO(damaged), max_bytes=LIMIT)


@pytest.mark.django_db
@pytest.mark.parametrize("damage", DAMAGED_IN_THE_REQUEST)
def test_the_upload_form_refuses_a_damaged_heic_and_creates_nothing(
    damage, client, alice, media_root
):
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), _form(damage(_heic_with_gps())))

    assert response.status_code == 200
    assert escape(DAMAGED_HEIC) in response.content.decode()
    assert not AvatarJob.objects.exists()
    assert _stored_files(media_root) == []


@pytest.mark.django_db
@pytest.mark.parametrize("damage", DAMAGED_IN_THE_REQUEST)
def test_the_api_refuses_a_damaged_heic_and_creates_nothing(damage, alice, media_root, fresh_cache):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    data_uri = "data:image/heic;base64," + base64.b64encode(damage(_heic_with_gps())).decode()

    response = api.post(
        "/api/v1/avatars/", {"face_image": data_uri, "consent": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"face_image": [DAMAGED_HEIC]}
    assert not AvatarJob.objects.exists()
    assert _stored_files(media_root) == []


@pytest.mark.django_db
def test_an_uploaded_heic_is_kept_as_received_until_it_is_normalised(
    client, alice, media_root, django_capture_on_commit_callbacks
):
    heic = _heic_with_gps()
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=False):  # no pipeline step runs yet
        client.post(reverse("avatars:upload"), _form(heic))

    job = AvatarJob.objects.get()
    assert job.selfie.name.endswith(".heic")
    assert _stored_files(media_root) == [".heic"]

    assert received_selfies.normalise_received(job) is True

    assert job.selfie.name.endswith(".jpg")
    assert AvatarJob.objects.get().selfie.name == job.selfie.name
    assert _stored_files(media_root) == [".jpg"]  # the original, with its GPS, is gone
    with job.selfie.open("rb") as stored:
        _assert_clean_jpeg(stored.read(), (600, 900))
    assert received_selfies.normalise_received(job) is True  # a second call changes nothing
    assert _stored_files(media_root) == [".jpg"]


@pytest.mark.django_db
def test_the_selfie_view_never_serves_a_received_heic(
    client, alice, media_root, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("avatars:upload"), _form(_heic_with_gps()))
    job = AvatarJob.objects.get()
    assert job.selfie.name.endswith(".heic")

    response = client.get(reverse("avatars:selfie", args=[job.pk]))

    assert response.status_code == 200
    _assert_clean_jpeg(b"".join(response.streaming_content), (600, 900))
    assert _stored_files(media_root) == [".jpg"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_heic_selfie_is_sent_as_a_clean_jpeg_and_the_avatar_completes(
    start_worker, engine, alice, media_root
):
    start_worker()
    heic = _face_heic_with_gps()
    assert b"PhoneMaker" in heic  # its EXIF is there to be dropped
    job = make_job(alice, selfie=_check(heic))

    job = wait_until_finished(job)

    assert job.status == JobStatus.COMPLETED
    [attempt] = job.attempts.all()
    sent = engine.app.store.get(attempt.prediction_id).inputs.face_image
    prefix = "data:image/jpeg;base64,"
    assert sent.startswith(prefix)
    _assert_clean_jpeg(base64.b64decode(sent[len(prefix) :]), (512, 512), upright=False)
    assert not [path for path in media_root.rglob("*.heic")]  # the original did not outlive it


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_heic_found_damaged_by_the_full_decode_fails_its_job_clearly(
    start_worker, engine, alice, media_root
):
    start_worker()
    job = make_job(alice, selfie=_check(_broken_parameter_sets(_heic_with_gps())))

    job = wait_until_finished(job)

    assert job.status == JobStatus.FAILED
    assert job.error_message == DAMAGED_HEIC
    assert job.attempts.count() == 0
    assert engine.stats()["runs_accepted"] == 0
    assert not job.selfie
    assert not [path for path in media_root.rglob("*") if path.is_file()]


@pytest.mark.django_db
def test_the_data_export_holds_the_normalised_selfie_never_the_received_heic(
    client, alice, media_root, fresh_cache, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("avatars:upload"), _form(_heic_with_gps()))
    job = AvatarJob.objects.get()
    assert job.selfie.name.endswith(".heic")

    response = client.post(reverse("data-export"))

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    [selfie] = [name for name in archive.namelist() if name.endswith("selfie.jpg")]
    _assert_clean_jpeg(archive.read(selfie), (600, 900))
    assert not [name for name in archive.namelist() if name.endswith(".heic")]
    assert _stored_files(media_root) == [".jpg"]


@pytest.mark.django_db
def test_the_retention_sweep_normalises_the_heic_of_a_job_that_failed_in_the_queue(
    alice, media_root
):
    job = make_job(alice, selfie=_check(_heic_with_gps()))
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, finished_at=timezone.now())
    assert _stored_files(media_root) == [".heic"]

    retention.purge_expired_files()

    job.refresh_from_db()
    assert job.selfie.name.endswith(".jpg")  # kept for Retry (7 days), without its metadata
    assert _stored_files(media_root) == [".jpg"]
    with job.selfie.open("rb") as stored:
        _assert_clean_jpeg(stored.read(), (600, 900))
