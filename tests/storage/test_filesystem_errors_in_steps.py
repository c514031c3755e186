"""The pipeline's steps, called directly, when the filesystem storage fails under them.

A real disk fault, not a stand-in: a directory stands where the step must read a file, or a file
where it must make a folder, so the operating system answers IsADirectoryError or FileExistsError
(OSErrors, but not FileNotFoundError, which means the file is gone for good). Such a step runs
again by itself after the transient wait, well before its lease would let the sweeper send it;
FASHN is never asked to run the prediction twice.
"""

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from avatar_studio.avatars.models import PREDICTING_STATUSES, AvatarJob, JobStatus
from avatar_studio.avatars.pipeline import steps
from avatar_studio.avatars.pipeline.limits import fashn_limits

from ..support.jobs import make_job
from ..support.waiting import wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

LEASE_SECONDS = 90.0
TRANSIENT_SECONDS = 2.0


@pytest.fixture(autouse=True)
def timings(settings):
    settings.AVATAR_STEP_LEASE_SECONDS = LEASE_SECONDS
    settings.AVATAR_TRANSIENT_RETRY_SECONDS = TRANSIENT_SECONDS


def _storage_warnings(caplog, job):
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING
        and f"job {job.pk}: media storage failed" in record.getMessage()
    ]


def _poll_until(job, condition):
    """Run the job's scheduled poll step until ``condition()``; the time of the last run."""
    ran_at = []

    def poll_once():
        fresh = AvatarJob.objects.get(pk=job.pk)
        ran_at.append(timezone.now())
        steps.poll_job(fresh.pk, fresh.step_token)
        return condition()

    wait_for(poll_once, timeout=30, interval=0.2, message="the poll step to meet the condition")
    return ran_at[-1]


def _due_soon(job, since):
    """The job's next step is scheduled after the transient wait (± its jitter), not the lease."""
    assert job.step_token is not None
    due = (job.next_action_at - since).total_seconds()
    assert due <= TRANSIENT_SECONDS * 1.2 + 1.0 < LEASE_SECONDS


def test_a_submit_that_cannot_read_its_selfie_on_disk_runs_again_by_itself(engine, alice, caplog):
    job = make_job(alice)
    selfie = Path(job.selfie.path)
    content = selfie.read_bytes()
    selfie.unlink()
    selfie.mkdir()  # opening it now raises IsADirectoryError
    caplog.set_level(logging.WARNING)

    started = timezone.now()
    steps.submit_job(job.pk, job.step_token)

    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.QUEUED
    assert not job.waiting_for_slot
    _due_soon(job, started)
    assert str(job.pk) not in fashn_limits().in_flight.holders()
    assert engine.stats()["run_calls"] == 0
    [warning] = _storage_warnings(caplog, job)
    assert "IsADirectoryError" in warning

    selfie.rmdir()
    selfie.write_bytes(content)
    steps.submit_job(job.pk, job.step_token)  # the step it scheduled for itself

    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUBMITTED
    assert engine.stats()["run_calls"] == 1


def test_a_poll_that_cannot_store_the_outputs_on_disk_runs_again_by_itself(
    engine, alice, media_root, caplog
):
    job = make_job(alice)
    steps.submit_job(job.pk, job.step_token)
    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status in PREDICTING_STATUSES
    # A file where the job's results folder goes: writing an output raises NotADirectoryError.
    results_folder = Path(media_root) / "avatars" / str(alice.pk) / str(job.pk)
    results_folder.parent.mkdir(parents=True)
    results_folder.write_bytes(b"in the way")
    caplog.set_level(logging.WARNING)

    # Polled (as its own schedule would) until the prediction completes and storing fails.
    started = _poll_until(job, lambda: _storage_warnings(caplog, job))

    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status in PREDICTING_STATUSES
    assert not job.results.exists()
    _due_soon(job, started)
    # A completed prediction's slot is given back before its outputs are stored.
    assert str(job.pk) not in fashn_limits().in_flight.holders()
    [warning] = _storage_warnings(caplog, job)
    assert "FileExistsError" in warning
    assert results_folder.is_file()  # nothing written beside it

    results_folder.unlink()
    steps.poll_job(job.pk, job.step_token)

    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.COMPLETED
    result = job.results.get()
    assert sorted(path.name for path in results_folder.iterdir()) == sorted(
        Path(name).name for name in (result.image.name, result.thumbnail.name)
    )
    assert engine.stats()["run_calls"] == 1


def test_a_received_heic_that_cannot_be_read_past_the_deadline_ends_the_job(
    engine, alice, media_root
):
    """The first read of a submit (a HEIC's normalisation) comes before its deadline check: the
    retries of a storage that stays out of reach must still end with the job's time."""
    job = make_job(alice)
    received = f"selfies/{alice.pk}/{job.pk}-received.heic"
    (Path(media_root) / received).mkdir(parents=True)
    AvatarJob.objects.filter(pk=job.pk).update(
        selfie=received, deadline_at=timezone.now() - timedelta(seconds=1)
    )

    steps.submit_job(job.pk, job.step_token)

    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.FAILED
    assert job.error_name == "DeadlineExceeded"
    assert engine.stats()["run_calls"] == 0
