"""Avatars made end to end on S3: an upload through the app, a real Celery worker and the
offline engine, every file in the bucket; and the S3 server out of reach for a while."""

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from avatar_studio.avatars.models import PREDICTING_STATUSES, AvatarJob, JobStatus
from avatar_studio.avatars.pipeline.limits import fashn_limits
from avatar_studio.avatars.refusals import Refused

from ..support.faces import astronaut_jpeg
from ..support.jobs import make_job, wait_until_finished
from ..support.waiting import wait_for
from .conftest import bucket_keys, s3_client

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def _upload(client):
    selfie = SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg")
    form = {"face_image": selfie, "prompt": "athletic build", "aspect_ratio": "2:3", "seed": "7"}
    response = client.post(
        reverse("avatars:upload"), {**form, "output_format": "png", "consent": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return AvatarJob.objects.get()


def _files_rows_point_to():
    names = set()
    for job in AvatarJob.objects.all():
        names.update(name for name in (job.selfie.name, job.garment_image.name) if name)
        for result in job.results.all():
            names.update((result.image.name, result.thumbnail.name))
    return names


def test_an_uploaded_selfie_becomes_an_avatar_stored_in_the_bucket(
    client, start_worker, engine, s3_storage, alice
):
    client.force_login(alice)
    job = _upload(client)
    selfie = f"selfies/{alice.pk}/{job.pk}.jpg"
    # Uploaded before any worker runs: the selfie is an object in the bucket.
    assert bucket_keys(s3_storage) == [selfie]

    start_worker()
    job = wait_until_finished(job)

    assert job.status == JobStatus.COMPLETED
    result = job.results.get()
    # The completed avatar's selfie is deleted once the completion committed (retention 0).
    wait_for(
        lambda: bucket_keys(s3_storage) == sorted([result.image.name, result.thumbnail.name]),
        timeout=15,
        message="the bucket to hold the avatar and its thumbnail only",
    )
    stored = s3_client(s3_storage["AWS_S3_ENDPOINT_URL"]).get_object(
        Bucket=s3_storage["AWS_STORAGE_BUCKET_NAME"], Key=result.image.name
    )
    assert stored["Body"].read(8) == b"\x89PNG\r\n\x1a\n"
    # The job page's image link ends at a signed URL of that object.
    signed = client.get(reverse("avatars:result", args=[job.pk, 0]))["Location"]
    assert requests.get(signed, timeout=10).content[:8] == b"\x89PNG\r\n\x1a\n"


# The lease production runs with: the sweeper could re-send a step only this long after it
# was claimed, far later than a step that re-schedules itself runs again.
PRODUCTION_LEASE_SECONDS = 90
# How long a job may take to complete once S3 is back: far inside the lease, so only the step
# itself can have sent it again.
BACK_WITHIN_SECONDS = 30


def _worker_log(worker):
    return worker.log_path.read_text(errors="replace")


def _sweeper_ran(worker):
    """Whether the worker was sent the sweeper (by beat: the tests never run it themselves)."""
    return "Task avatars.sweep_overdue_jobs[" in _worker_log(worker)


def _storage_warnings(worker, job):
    """The worker's WARNING lines that name the job and a storage error."""
    return [
        line
        for line in _worker_log(worker).splitlines()
        if "WARNING" in line and f"job {job.pk}: media storage failed (" in line
    ]


def _finished(job):
    fresh = AvatarJob.objects.get(pk=job.pk)
    return fresh if fresh.is_terminal else None


def test_s3_out_of_reach_for_a_while_loses_nothing_and_leaves_no_orphan(
    start_worker, worker_env, engine, s3_storage, s3_proxy, alice, bob
):
    worker_env.update(s3_proxy.env)
    worker_env["AVATAR_STEP_LEASE_SECONDS"] = str(PRODUCTION_LEASE_SECONDS)
    engine.configure(processing_seconds=2)
    worker = start_worker()
    job = make_job(alice)
    wait_for(
        lambda: AvatarJob.objects.get(pk=job.pk).status in PREDICTING_STATUSES,
        message="the prediction to be submitted",
    )

    s3_proxy.cut()
    # The prediction ends while S3 is out of reach: its outputs cannot be stored yet.
    wait_for(lambda: s3_proxy.refused >= 1, message="the worker to try to store the outputs")
    assert AvatarJob.objects.get(pk=job.pk).status in PREDICTING_STATUSES
    # An upload meanwhile is refused, and saves nothing (test_s3_outage_doors: every door).
    with pytest.raises(Refused):
        make_job(bob)
    assert not AvatarJob.objects.filter(owner=bob).exists()

    s3_proxy.restore()
    # The poll step re-schedules itself: the job completes long before its lease would let the
    # sweeper send the step again.
    job = wait_for(
        lambda: _finished(job),
        timeout=BACK_WITHIN_SECONDS,
        message="the job to complete by itself once S3 is back",
    )

    assert job.status == JobStatus.COMPLETED
    assert not _sweeper_ran(worker)
    assert _storage_warnings(worker, job), "no WARNING naming the job and the storage error"
    assert engine.stats()["runs_accepted"] == 1  # stored late, never sent to FASHN twice
    result = job.results.get()
    # Then its selfie goes (retention 0): the bucket holds exactly what the rows point to.
    expected = sorted([result.image.name, result.thumbnail.name])
    wait_for(
        lambda: bucket_keys(s3_storage) == expected == sorted(_files_rows_point_to()),
        timeout=15,
        message="the bucket to hold exactly the files rows point to",
    )


def test_a_job_whose_selfie_cannot_be_read_is_submitted_once_s3_is_back(
    start_worker, worker_env, engine, s3_proxy, alice
):
    worker_env.update(s3_proxy.env)
    worker_env["AVATAR_STEP_LEASE_SECONDS"] = str(PRODUCTION_LEASE_SECONDS)
    job = make_job(alice)  # stored while S3 answers; its submit step waits in the queue
    s3_proxy.cut()

    worker = start_worker()
    # The submit step cannot read the selfie: nothing is sent to FASHN, the job stays queued.
    wait_for(lambda: s3_proxy.refused >= 1, message="the worker to try to read the selfie")
    assert AvatarJob.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert engine.stats()["runs_accepted"] == 0

    # It holds no FASHN slot while it waits for S3 (each try takes one only for a moment).
    wait_for(
        lambda: str(job.pk) not in fashn_limits().in_flight.holders(),
        timeout=5,
        message="the job to hold no FASHN slot",
    )

    s3_proxy.restore()
    job = wait_for(
        lambda: _finished(job),
        timeout=BACK_WITHIN_SECONDS,
        message="the job to complete by itself once S3 is back",
    )

    assert job.status == JobStatus.COMPLETED
    assert not _sweeper_ran(worker)
    assert _storage_warnings(worker, job), "no WARNING naming the job and the storage error"
    assert engine.stats()["runs_accepted"] == 1
