"""Pipeline steps called directly (no worker): the cases that need no timing."""

import functools

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
    # The first poll is the one step scheduled (the metrics' counts are sent after commit too).
    scheduled = [c for c in callbacks if c.__qualname__.startswith("_schedule")]
    assert len(scheduled) == 1


def test_a_completed_job_records_each_image_size_so_pages_never_open_the_file(client, alice):
    """Without width and height on the row, loading it opens the image to measure it: a storage
    read per image per page, and a 500 once the file has gone."""
    import base64
    import io

    from django.core.files.storage import default_storage
    from django.urls import reverse
    from PIL import Image

    from avatar_studio.avatars.models import PredictionAttempt
    from avatar_studio.avatars.pipeline import outputs, transitions

    job = make_job(alice)
    attempt = PredictionAttempt.objects.create(
        job=job, number=1, prediction_id="pred-size", submitted_at=job.created_at
    )
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    buffer = io.BytesIO()
    Image.new("RGB", (200, 300), (90, 120, 150)).save(buffer, "PNG")
    data_uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

    stored = outputs.store_outputs(job, attempt, [data_uri])
    transitions.complete_job(job, attempt, stored_outputs=stored, credits_used=1)

    [result] = AvatarJob.objects.get(pk=job.pk).results.all()
    assert (result.width, result.height) == (200, 300)
    default_storage.delete(result.image.name)  # gone from storage, e.g. by hand
    client.force_login(alice)
    assert client.get(reverse("avatars:gallery")).status_code == 200


def _poll_once(job):
    """One run of the poll step, as the worker would; True once the job is completed."""
    fresh = AvatarJob.objects.get(pk=job.pk)
    steps.poll_job(fresh.pk, fresh.step_token)
    return AvatarJob.objects.get(pk=job.pk).status == JobStatus.COMPLETED


def test_polls_record_when_the_prediction_last_ran_and_when_its_end_was_seen(engine, alice):
    """The cadence learns a prediction's duration from these two, not from when the job finished
    (which adds our detection and storage time)."""
    from avatar_studio.avatars.pipeline import cadence

    from ..support.waiting import wait_for

    engine.configure(processing_seconds=1.0)
    job = make_job(alice)
    steps.submit_job(job.pk, job.step_token)

    poll_once = functools.partial(_poll_once, job)
    assert not poll_once()  # a second's prediction is still running when first asked
    wait_for(poll_once, interval=0.2, message="the prediction to be seen completed")

    attempt = AvatarJob.objects.get(pk=job.pk).attempts.get()
    assert attempt.submitted_at < attempt.running_seen_at < attempt.end_seen_at
    assert attempt.end_seen_at <= attempt.finished_at  # the outputs were stored after it
    [sample] = cadence.recent_samples(job.model_name)
    assert sample.bracketed
    assert sample.running_at < 1.0


def test_a_completion_is_learnt_by_the_next_plan_not_after_the_cache_expires(engine, alice):
    """While the cadence learns, each round aims better only if it plans from the round just
    ended: a cached history from before it would plan the next round from wide brackets again."""
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    from avatar_studio.avatars.models import PredictionAttempt
    from avatar_studio.avatars.pipeline import cadence

    from ..support.waiting import wait_for

    cache.clear()
    engine.configure(processing_seconds=0.0)
    earlier = make_job(alice)
    now = timezone.now()
    for number in range(1, cadence.MIN_SAMPLES + 1):
        PredictionAttempt.objects.create(
            job=earlier,
            number=number,
            prediction_id=f"earlier-{number}",
            status="completed",
            submitted_at=now - timedelta(seconds=13),
            running_seen_at=now - timedelta(seconds=2),
            end_seen_at=now,
            finished_at=now,
        )
    assert cadence.expected_for(earlier.model_name).samples == cadence.MIN_SAMPLES  # now cached

    job = make_job(alice)
    steps.submit_job(job.pk, job.step_token)

    wait_for(
        functools.partial(_poll_once, job),
        interval=0.2,
        message="the prediction to be seen completed",
    )
    assert cadence.expected_for(job.model_name).samples == cadence.MIN_SAMPLES + 1
