"""The app's files on a real S3 server: private objects, signed URLs that expire, downloads
through the app, the retention purge and account deletion, all read back from the bucket."""

import io
import time
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from avatar_studio.avatars import received_selfies
from avatar_studio.avatars.images import ReceivedHeic
from avatar_studio.avatars.retention import purge_expired_files

from ..support import crafted
from ..support.crafted import encode, quadrants
from ..support.jobs import make_finished_job, make_job
from .conftest import bucket_keys, s3_client, use_storage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("s3_storage", "fresh_cache")]


def _object_url(env, key):
    return f"{env['AWS_S3_ENDPOINT_URL']}/{env['AWS_STORAGE_BUCKET_NAME']}/{key}"


def _object_bytes(env, key):
    stored = s3_client(env["AWS_S3_ENDPOINT_URL"]).get_object(
        Bucket=env["AWS_STORAGE_BUCKET_NAME"], Key=key
    )
    return stored["Body"].read()


def _files_of(job):
    result = job.results.get()
    return [job.selfie.name, result.image.name, result.thumbnail.name]


def test_a_job_s_files_are_private_objects_in_the_bucket(s3_storage, alice):
    job = make_finished_job(alice)

    names = _files_of(job)
    assert sorted(names) == bucket_keys(s3_storage)
    assert names[0] == f"selfies/{alice.pk}/{job.pk}.jpg"
    for name in names:
        # Nobody without a signature gets the object: S3 answers 403 to an anonymous GET.
        assert requests.get(_object_url(s3_storage, name), timeout=10).status_code == 403
    assert _object_bytes(s3_storage, names[0])[:3] == b"\xff\xd8\xff"


def test_the_download_view_redirects_to_a_signed_url_that_works(client, s3_storage, alice, bob):
    job = make_finished_job(alice)
    image = job.results.get().image.name
    client.force_login(alice)

    response = client.get(reverse("avatars:result-download", args=[job.pk, 0]))

    assert response.status_code == 302
    signed = response["Location"]
    assert signed.startswith(_object_url(s3_storage, image) + "?")
    assert parse_qs(urlsplit(signed).query)["X-Amz-Expires"] == ["60"]
    download = requests.get(signed, timeout=10)
    assert download.status_code == 200
    assert download.content == _object_bytes(s3_storage, image)
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    # The signature covers the whole request: change a letter and S3 refuses it.
    forged = signed.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    assert requests.get(forged, timeout=10).status_code == 403
    # Bob is sent nowhere near Alice's object.
    client.force_login(bob)
    assert client.get(reverse("avatars:result-download", args=[job.pk, 0])).status_code == 404


def test_a_signed_url_is_refused_once_it_has_expired(client, settings, s3_storage, alice):
    use_storage(settings, {**s3_storage, "AWS_QUERYSTRING_EXPIRE": "1"})
    job = make_finished_job(alice)
    client.force_login(alice)

    signed = client.get(reverse("avatars:result", args=[job.pk, 0]))["Location"]

    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["1"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    # Two seconds past the signing time: a second past the URL's end, whatever the rounding.
    time.sleep(max(0.0, (signed_at + timedelta(seconds=2) - datetime.now(UTC)).total_seconds()))
    expired = requests.get(signed, timeout=10)
    assert expired.status_code == 403
    assert "Request has expired" in expired.text
    # A fresh visit to the app signs a fresh URL.
    again = client.get(reverse("avatars:result", args=[job.pk, 0]))["Location"]
    assert again != signed


def test_a_public_image_is_streamed_through_the_app_not_redirected(
    client, s3_storage, alice, staff
):
    # An approved avatar in the showcase (like the store's product photos) is read from the
    # bucket by the app on every request, so that withdrawing it takes effect at once: no
    # signed URL is handed out that would keep working.
    from avatar_studio.avatars.review import services as review

    job = make_finished_job(alice)
    review.offer_for_display(job)
    review.approve(job, reviewer=staff)
    result = job.results.get()

    response = client.get(reverse("avatars:showcase-image", args=[result.pk]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    streamed = b"".join(response.streaming_content)
    assert streamed == _object_bytes(s3_storage, result.thumbnail.name)
    review.withdraw_from_display(job)
    assert client.get(reverse("avatars:showcase-image", args=[result.pk])).status_code == 404


def test_the_data_export_reads_every_file_from_the_bucket(client, s3_storage, alice):
    job = make_finished_job(alice, status="failed")
    completed = make_finished_job(alice)
    client.force_login(alice)

    response = client.post(reverse("data-export"))

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    contents = {name: archive.read(name) for name in archive.namelist()}
    selfies = [data for name, data in contents.items() if name.endswith("selfie.jpg")]
    assert sorted(selfies) == sorted(
        _object_bytes(s3_storage, j.selfie.name) for j in (job, completed)
    )
    image = _object_bytes(s3_storage, completed.results.get().image.name)
    assert image in contents.values()


def test_the_retention_purge_removes_selfie_objects_and_keeps_the_avatars(
    settings, s3_storage, alice
):
    failed = make_finished_job(alice, status="failed")
    completed = make_finished_job(alice)
    selfies = {failed.selfie.name, completed.selfie.name}
    results = {completed.results.get().image.name, completed.results.get().thumbnail.name}
    assert set(bucket_keys(s3_storage)) == selfies | results
    later = timezone.now() + timedelta(days=settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS + 1)

    dry = purge_expired_files(later, dry_run=True)
    assert dry.total == 2
    assert set(bucket_keys(s3_storage)) == selfies | results

    report = purge_expired_files(later)

    assert report.total == 2
    assert set(bucket_keys(s3_storage)) == results


def test_deleting_an_account_removes_every_object_of_the_user(
    client, s3_storage, alice, bob, django_capture_on_commit_callbacks
):
    make_finished_job(alice)
    make_finished_job(alice, status="failed")
    bobs = make_finished_job(bob)
    client_s3 = s3_client(s3_storage["AWS_S3_ENDPOINT_URL"])
    bucket = s3_storage["AWS_STORAGE_BUCKET_NAME"]
    # Left under her prefix by a crash: it goes too. A user whose id starts with hers (alice 1,
    # user 12) keeps his: prefixes end at the folder.
    client_s3.put_object(Bucket=bucket, Key=f"avatars/{alice.pk}/stray/left-over.png", Body=b"x")
    neighbour = f"avatars/{alice.pk}2/{bobs.pk}/kept.png"
    client_s3.put_object(Bucket=bucket, Key=neighbour, Body=b"x")
    alices_prefixes = tuple(f"{kind}/{alice.pk}/" for kind in ("selfies", "avatars", "garments"))
    before = bucket_keys(s3_storage)
    alices = [key for key in before if key.startswith(alices_prefixes)]
    assert len(alices) == 1 + 3 + 1  # the failed job's selfie, the completed one's three, stray
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account-delete"), {"password": "alice-password-1", "confirm": "on"}
        )

    assert response.status_code == 302
    after = bucket_keys(s3_storage)
    assert not [key for key in after if key.startswith(alices_prefixes)]
    assert after == sorted(set(before) - set(alices))
    assert neighbour in after and set(_files_of(bobs)) <= set(after)


def test_a_received_heic_is_replaced_in_the_bucket_by_its_normalised_jpeg(s3_storage, alice):
    heic = encode(quadrants((600, 900)), "HEIF", exif=crafted.gps_exif().tobytes())
    job = make_job(alice, selfie=ReceivedHeic(heic=heic, width=600, height=900))
    assert bucket_keys(s3_storage) == [f"selfies/{alice.pk}/{job.pk}.heic"]

    assert received_selfies.normalise_received(job) is True

    assert bucket_keys(s3_storage) == [f"selfies/{alice.pk}/{job.pk}.jpg"]
    assert job.selfie.name == f"selfies/{alice.pk}/{job.pk}.jpg"
    stored = _object_bytes(s3_storage, job.selfie.name)
    assert stored[:3] == b"\xff\xd8\xff"
    assert b"Exif\x00\x00" not in stored
