"""The avatar job state machine: every status change of a job goes through this module.

Each transition is a compare-and-swap ``UPDATE ... WHERE status = <expected>`` (plus, for steps,
``step_token = <the token the task carries>``). It works the same on SQLite and PostgreSQL and
means two workers can never both act on a job: the loser's update matches no row.

    queued ──claim──▶ submitting ──id saved──▶ submitted ─▶ in_queue ─▶ processing ─▶ completed
      ▲                  │  │                        │           │            │
      │   limit/429/5xx  │  └─ in doubt ─▶ failed     └───────────┴────────────┴─▶ failed
      └──────────────────┘                       (retryable error: back to queued, new attempt)

Steps are run by Celery tasks that carry the job id and a step token. A step is scheduled only
after the transaction that created its token commits (``transaction.on_commit``). The tasks are
looked up by name in Celery's registry, so this module never imports the steps that call it.

The user actions that start or restart a job (``avatars.services``) call ``start_new_job`` and
``restart_failed_job``; every other function here is called by the pipeline's steps.
"""

import logging
import secrets
import uuid
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from avatar_studio import fashn
from avatar_studio.ops import counters

from ..models import (
    ACTIVE_STATUSES,
    PREDICTING_STATUSES,
    AvatarJob,
    AvatarResult,
    JobStatus,
    PredictionAttempt,
)
from . import cadence
from .failures import message_for
from .signals import job_ending, job_finished

logger = logging.getLogger(__name__)

STEP_SUBMIT = "submit"
STEP_POLL = "poll"
# The Celery task that runs each step (``pipeline.tasks``).
STEP_TASKS = {STEP_SUBMIT: "avatars.submit_job", STEP_POLL: "avatars.poll_job"}

_FASHN_TO_JOB_STATUS = {
    fashn.PredictionStatus.STARTING: JobStatus.SUBMITTED,
    fashn.PredictionStatus.IN_QUEUE: JobStatus.IN_QUEUE,
    fashn.PredictionStatus.PROCESSING: JobStatus.PROCESSING,
}


def _now():
    return timezone.now()


def _lease_end():
    return _now() + timedelta(seconds=settings.AVATAR_STEP_LEASE_SECONDS)


def _schedule(job_id, step, token, countdown=0.0):
    """Send the step's task once the current transaction (if any) has committed."""
    task = current_app.tasks[STEP_TASKS[step]]
    transaction.on_commit(
        lambda: task.apply_async(args=[str(job_id), str(token)], countdown=max(0.0, countdown))
    )


def _set_next_step(job_id, guard, step, delay, **fields):
    """Give the job a fresh step token and schedule that step, if it still matches ``guard``.

    ``guard`` holds the filter conditions of the compare-and-swap. Returns the new step token if
    the job matched, else None.
    """
    token = uuid.uuid4()
    matched = AvatarJob.objects.filter(pk=job_id, **guard).update(
        step_token=token,
        next_action_at=_now() + timedelta(seconds=delay),
        updated_at=_now(),
        **fields,
    )
    if not matched:
        return None
    _schedule(job_id, step, token, delay)
    return token


# --- Starting and restarting (called by the user actions) --------------------------------------


def new_job(owner, **fields):
    """An unsaved job with a fresh budget of attempts and time, ready for ``start_new_job``."""
    return AvatarJob(
        owner=owner,
        max_attempts=settings.AVATAR_MAX_ATTEMPTS,
        deadline_at=_now() + timedelta(seconds=settings.AVATAR_JOB_DEADLINE_SECONDS),
        next_action_at=_now(),
        step_token=uuid.uuid4(),
        **fields,
    )


def start_new_job(job):
    """Save a job made by ``new_job`` and send its submission once the transaction commits."""
    with transaction.atomic():
        job.save(force_insert=True)
        _schedule(job.pk, STEP_SUBMIT, job.step_token)
    return job


def restart_failed_job(job, *, seed=None):
    """failed → queued with a fresh budget of attempts (and ``seed``, if given).

    Returns the new step token, or None if the job was not failed any more.
    """
    fields = {
        "status": JobStatus.QUEUED,
        "error_name": "",
        "error_message": "",
        "finished_at": None,
        "waiting_for_slot": False,
        "max_attempts": job.attempts.count() + settings.AVATAR_MAX_ATTEMPTS,
        "deadline_at": _now() + timedelta(seconds=settings.AVATAR_JOB_DEADLINE_SECONDS),
    }
    if seed is not None:
        fields["seed"] = seed
    with transaction.atomic():
        return _set_next_step(job.pk, {"status": JobStatus.FAILED}, STEP_SUBMIT, 0.0, **fields)


# --- Steps (called by the pipeline) ------------------------------------------------------------


def claim_step(job_id, token, statuses):
    """Take the step that ``token`` was issued for. Returns the job, or None if it is not ours.

    The claimed step holds a lease: if its worker dies, the sweeper finds it when the lease ends.
    """
    matched = AvatarJob.objects.filter(pk=job_id, step_token=token, status__in=statuses).update(
        step_token=None, next_action_at=_lease_end(), updated_at=_now()
    )
    return AvatarJob.objects.get(pk=job_id) if matched else None


def begin_submission(job):
    """queued → submitting, after the job has a FASHN slot and a request token.

    Returns the new attempt's webhook token (a fresh secret for the submission's webhook_url),
    or None if the job moved on.
    """
    webhook_token = secrets.token_urlsafe(24)
    matched = AvatarJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.SUBMITTING,
        waiting_for_slot=False,
        webhook_token=webhook_token,
        updated_at=_now(),
    )
    return webhook_token if matched else None


def requeue(job, *, delay, waiting_for_slot=False):
    """Put a job back in the queue before any prediction was made for this step."""
    guard = {"status__in": [JobStatus.QUEUED, JobStatus.SUBMITTING]}
    return _set_next_step(
        job.pk,
        guard,
        STEP_SUBMIT,
        delay,
        status=JobStatus.QUEUED,
        waiting_for_slot=waiting_for_slot,
    )


def record_submission(job, prediction_id):
    """Save FASHN's prediction id: the first thing done after /v1/run answers."""
    now = _now()
    with transaction.atomic():
        number = job.attempts.count() + 1
        attempt = PredictionAttempt.objects.create(
            job=job, number=number, prediction_id=prediction_id, submitted_at=now
        )
        fields = {"status": JobStatus.SUBMITTED}
        if job.submitted_at is None:
            fields["submitted_at"] = now
        # Counted before the poll is scheduled: both are sent after commit, in this order, so
        # no later event of this attempt can be counted before its submission.
        queue_wait = (now - job.created_at).total_seconds() if number == 1 else None
        counters.prediction_submitted(job.model_name, number, queue_wait)
        guard = {"status": JobStatus.SUBMITTING}
        first_poll = cadence.first_poll_delay(job.model_name)
        if not _set_next_step(job.pk, guard, STEP_POLL, first_poll, **fields):
            # Unreachable while steps are claimed; raising rolls the attempt back with it.
            raise RuntimeError(f"job {job.pk} left 'submitting' while submitting")
    logger.info("job %s: attempt %s submitted as prediction %s", job.pk, number, prediction_id)
    return attempt


def record_progress(job, attempt, fashn_status, *, asked_at, delay):
    """A running prediction: note its status and schedule the next poll.

    ``asked_at`` is when the status call that found it running was sent: the prediction ends
    after it (the cadence learns from that, see ``cadence.Sample``).
    """
    now = _now()
    PredictionAttempt.objects.filter(pk=attempt.pk).update(
        status=fashn_status,
        poll_count=attempt.poll_count + 1,
        last_polled_at=now,
        running_seen_at=asked_at,
    )
    job_status = _FASHN_TO_JOB_STATUS.get(fashn_status, job.status)
    guard = {"status__in": PREDICTING_STATUSES}
    return _set_next_step(job.pk, guard, STEP_POLL, delay, status=job_status)


def postpone_poll(job, *, delay):
    """Poll again later without news (rate limit, transient error)."""
    return _set_next_step(job.pk, {"status__in": PREDICTING_STATUSES}, STEP_POLL, delay)


def poll_now(job, webhook_token):
    """FASHN says the job's prediction changed: check its status at once.

    Only a scheduled poll is brought forward (its old message then finds a stale token); a poll
    that is running right now is left alone (the webhook's caller is refused, and FASHN's retry
    finds the next poll waiting). Returns True if a poll was scheduled.
    """
    guard = {
        "webhook_token": webhook_token,
        "status__in": PREDICTING_STATUSES,
        "step_token__isnull": False,
    }
    return bool(_set_next_step(job.pk, guard, STEP_POLL, 0.0))


def record_attempt_failure(job, attempt, *, status, error_name, error_message):
    """The prediction ended without an image: retry with backoff if allowed, else fail the job.

    Returns True when a new attempt was scheduled.
    """
    now = _now()
    with transaction.atomic():
        PredictionAttempt.objects.filter(pk=attempt.pk).update(
            status=status,
            error_name=error_name,
            error_message=error_message,
            finished_at=now,
            last_polled_at=now,
            poll_count=attempt.poll_count + 1,
        )
        counters.prediction_failed(
            job.model_name, error_name or status, (now - attempt.submitted_at).total_seconds()
        )
        retryable = fashn.retry_can_succeed(status, error_name)
        if retryable and attempt.number < job.max_attempts:
            guard = {"status__in": PREDICTING_STATUSES}
            delay = cadence.retry_delay(attempt.number)
            return _set_next_step(job.pk, guard, STEP_SUBMIT, delay, status=JobStatus.QUEUED)
        fail_job(job, error_name or status, from_statuses=PREDICTING_STATUSES)
        return False


def fail_job(job, error_name, *, from_statuses=ACTIVE_STATUSES, message=None):
    """End a job as failed, with a message that tells its owner what to do. True if it matched."""
    now = _now()  # before the transaction, which may wait for the database's write lock
    with transaction.atomic():
        matched = AvatarJob.objects.filter(pk=job.pk, status__in=from_statuses).update(
            status=JobStatus.FAILED,
            error_name=error_name,
            error_message=message or message_for(error_name, tryon=job.is_tryon),
            step_token=None,
            next_action_at=None,
            waiting_for_slot=False,
            finished_at=now,
            updated_at=now,
        )
        if matched:
            logger.info("job %s failed: %s", job.pk, error_name)
            counters.job_failed(error_name)
            _announce_finished(job.pk, JobStatus.FAILED)
    return bool(matched)


def complete_job(job, attempt, *, stored_outputs, credits_used, end_seen_at=None):
    """Record the stored images and end the job as completed, in one transaction.

    ``stored_outputs`` is a list of ``outputs.StoredOutput`` for files already written to
    storage; ``end_seen_at`` is when the status call that found the prediction ended answered
    (now, if not given). Returns False (and writes nothing) if the job moved on.
    """
    now = _now()
    end_seen_at = end_seen_at or now
    with transaction.atomic():
        matched = AvatarJob.objects.filter(pk=job.pk, status__in=PREDICTING_STATUSES).update(
            status=JobStatus.COMPLETED,
            step_token=None,
            next_action_at=None,
            finished_at=now,
            updated_at=now,
        )
        if not matched:
            return False
        PredictionAttempt.objects.filter(pk=attempt.pk).update(
            status="completed",
            credits_used=credits_used,
            finished_at=now,
            last_polled_at=now,
            end_seen_at=end_seen_at,
            poll_count=attempt.poll_count + 1,
        )
        counters.prediction_completed(
            job.model_name, (end_seen_at - attempt.submitted_at).total_seconds(), credits_used
        )
        for output in stored_outputs:
            result = AvatarResult(
                job=job,
                index=output.index,
                content_type=output.content_type,
                width=output.width,
                height=output.height,
            )
            result.image.name = output.image_name
            result.thumbnail.name = output.thumbnail_name
            result.save()
        _announce_finished(job.pk, JobStatus.COMPLETED, credits_used=credits_used)
    logger.info("job %s completed with %s image(s)", job.pk, len(stored_outputs))
    return True


def _announce_finished(job_id, status, *, credits_used=None):
    # In the recording transaction (the credits ledger settles with it), then once committed.
    job_ending.send(sender=AvatarJob, job_id=job_id, status=str(status), credits_used=credits_used)

    def send():
        # A failing listener must not undo or hide the job's end: log it and carry on.
        for receiver, error in job_finished.send_robust(
            sender=AvatarJob, job_id=job_id, status=str(status)
        ):
            if isinstance(error, Exception):
                logger.error("job %s: job_finished receiver %r failed: %r", job_id, receiver, error)

    transaction.on_commit(send)


# --- Recovery ---------------------------------------------------------------------------------


def reissue_step(job):
    """Give an overdue job a new step token and schedule its step now. False if it moved on."""
    step = STEP_SUBMIT if job.status == JobStatus.QUEUED else STEP_POLL
    guard = {"status": job.status, "next_action_at": job.next_action_at}
    return _set_next_step(job.pk, guard, step, 0.0)


def wake_job(job):
    """Run a queued job's submit step now (a FASHN slot just freed up)."""
    guard = {"status": JobStatus.QUEUED, "waiting_for_slot": True}
    return _set_next_step(job.pk, guard, STEP_SUBMIT, 0.0, waiting_for_slot=False)
