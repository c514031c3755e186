"""The state machine's guards: a step runs once, transitions only from the states they name."""

import uuid

import pytest
from django.utils import timezone

from avatar_studio.avatars import selectors, services
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionAttempt
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.refusals import RETRY_RUNNING, Refused

from ..support.jobs import make_job

pytestmark = pytest.mark.django_db


def _attempt(job, number=1, **fields):
    return PredictionAttempt.objects.create(
        job=job,
        number=number,
        prediction_id=f"pred-{uuid.uuid4()}",
        submitted_at=timezone.now(),
        **fields,
    )


def test_a_step_can_be_claimed_once_and_only_with_its_token(alice):
    job = make_job(alice)

    assert transitions.claim_step(job.pk, uuid.uuid4(), [JobStatus.QUEUED]) is None
    claimed = transitions.claim_step(job.pk, job.step_token, [JobStatus.QUEUED])
    assert claimed is not None
    assert claimed.step_token is None
    assert claimed.next_action_at > timezone.now()
    assert transitions.claim_step(job.pk, job.step_token, [JobStatus.QUEUED]) is None


def test_a_step_is_not_claimed_in_another_status(alice):
    job = make_job(alice)

    assert transitions.claim_step(job.pk, job.step_token, [JobStatus.PROCESSING]) is None


def test_submission_records_the_attempt_and_schedules_a_poll(
    alice, django_capture_on_commit_callbacks
):
    job = make_job(alice)
    transitions.claim_step(job.pk, job.step_token, [JobStatus.QUEUED])
    assert transitions.begin_submission(job)
    assert not transitions.begin_submission(job)  # already submitting

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attempt = transitions.record_submission(job, "prediction-123")

    job.refresh_from_db()
    assert (attempt.number, attempt.prediction_id) == (1, "prediction-123")
    assert job.status == JobStatus.SUBMITTED
    assert job.submitted_at is not None
    assert job.step_token is not None
    # One step scheduled: the first poll (the metrics' counts are sent after commit too).
    assert len([c for c in callbacks if c.__qualname__.startswith("_schedule")]) == 1


def test_a_retryable_failure_queues_a_new_attempt_until_the_limit(alice):
    job = make_job(alice)
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    job.refresh_from_db()

    retried = transitions.record_attempt_failure(
        job, _attempt(job, 1), status="failed", error_name="PipelineError", error_message="boom"
    )
    job.refresh_from_db()
    assert retried
    assert job.status == JobStatus.QUEUED

    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    retried = transitions.record_attempt_failure(
        job, _attempt(job, 3), status="failed", error_name="PipelineError", error_message="boom"
    )
    job.refresh_from_db()
    assert not retried
    assert job.status == JobStatus.FAILED
    assert job.error_name == "PipelineError"
    assert job.next_action_at is None


def test_a_permanent_failure_ends_the_job_with_advice(alice):
    job = make_job(alice)
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.IN_QUEUE)

    retried = transitions.record_attempt_failure(
        job, _attempt(job), status="failed", error_name="ContentModerationError", error_message="x"
    )

    job.refresh_from_db()
    assert not retried
    assert job.status == JobStatus.FAILED
    assert "content rules" in job.error_message


def test_a_finished_job_cannot_be_failed_or_completed_again(alice):
    job = make_job(alice)
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.COMPLETED)

    assert not transitions.fail_job(job, "PipelineError")
    assert not transitions.complete_job(job, _attempt(job), stored_outputs=[], credits_used=1)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED


def test_only_a_failed_job_can_be_retried_and_it_gets_new_attempts(alice):
    job = make_job(alice)
    with pytest.raises(Refused) as refused:
        services.retry_job(job)
    assert refused.value.reason == RETRY_RUNNING

    _attempt(job, 1)
    _attempt(job, 2)
    _attempt(job, 3)
    transitions.fail_job(job, "PipelineError")
    job.refresh_from_db()
    AvatarJob.objects.filter(pk=job.pk).update(seed=7)
    job.refresh_from_db()
    seed = services.retry_job(job, new_seed=True)

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert seed != 7
    assert (job.seed, job.error_name, job.max_attempts) == (seed, "", 6)


def test_overdue_jobs_are_found_and_reissued_once(alice):
    job = make_job(alice)
    AvatarJob.objects.filter(pk=job.pk).update(
        next_action_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    job.refresh_from_db()

    assert list(selectors.overdue_jobs()) == [job]
    assert transitions.reissue_step(job)
    assert not transitions.reissue_step(job)  # the stale copy no longer matches
    assert not selectors.overdue_jobs().exists()


def test_deleting_a_job_removes_its_files_once_the_deletion_commits(
    alice, media_root, django_capture_on_commit_callbacks
):
    job = make_job(alice)
    selfie_path = media_root / job.selfie.name
    assert selfie_path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_avatar(job)
        assert selfie_path.exists()  # a deletion that rolled back would still need it

    assert not selfie_path.exists()
    assert not AvatarJob.objects.exists()
