"""Pipeline steps called directly (no worker): the cases that need no timing."""

import pytest

from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.avatars.pipeline import steps

from ..support.jobs import make_job

pytestmark = pytest.mark.django_db


def test_a_job_whose_selfie_is_gone_fails_without_calling_fashn(engine, alice):
    job = make_job(alice)
    job.selfie.delete(save=False)

    steps.submit_job(job.pk, job.step_token)

    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.FAILED
    assert job.error_name == "SelfieMissing"
    assert "Upload your selfie once more" in job.error_message
    assert engine.stats()["run_calls"] == 0


def test_a_step_with_a_stale_token_does_nothing(engine, alice):
    job = make_job(alice)

    steps.submit_job(job.pk, "8c8e3c8e-0000-4000-8000-000000000000")

    assert AvatarJob.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert engine.stats()["run_calls"] == 0


def test_a_submission_saves_the_prediction_id_first(
    engine, alice, django_capture_on_commit_callbacks
):
    job = make_job(alice)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        steps.submit_job(job.pk, job.step_token)

    job = AvatarJob.objects.get(pk=job.pk)
    [attempt] = job.attempts.all()
    assert job.status == JobStatus.SUBMITTED
    assert attempt.prediction_id in engine.stats()["predictions"]
    assert len(callbacks) == 1  # the first poll
