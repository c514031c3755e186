"""The avatar job state machine: every status change of a job goes through this module.

Each transition is a compare-and-swap ``UPDATE ... WHERE status = <expected>`` (plus, for steps,
``step_token = <the token the task carries>``). It works the same on SQLite and PostgreSQL and
means two workers can never both act on a job: the loser's update matches no row.

    queued ──claim──▶ submitting ──id saved──▶ submitted ─▶ in_queue ─▶ processing ─▶ completed
      ▲                  │  │                        │           │            │
      │   limit/429/5xx  │  └─ in doubt ─▶ failed     └───────────┴────────────┴─▶ failed
      └──────────────────┘                       (retryable error: back to queued, new attempt)

Steps are run by Celery tasks that carry the job id and a step token. A step is scheduled only
after the transaction that created its token commits (``transaction.on_commit``).
"""

import logging
import random
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import cadence
from .failures import message_for
from .models import (
    ACTIVE_STATUSES,
    PREDICTING_STATUSES,
    AvatarJob,
    AvatarResult,
    JobStatus,
    PredictionAttempt,
    PredictionModel,
    ShareLink,
)
from .signals import job_finished

logger = logging.getLogger(__name__)

STEP_SUBMIT = "submit"
STEP_POLL = "poll"

_FASHN_TO_JOB_STATUS = {
    "starting": JobStatus.SUBMITTED,
    "in_queue": JobStatus.IN_QUEUE,
    "processing": JobStatus.PROCESSING,
}


def _now():
    return timezone.now()


def _lease_end():
    return _now() + timedelta(seconds=settings.AVATAR_STEP_LEASE_SECONDS)


def _schedule(job_id, step, token, countdown=0.0):
    """Send the step's task once the current transaction (if any) has committed."""
    from . import tasks

    task = tasks.submit_job if step == STEP_SUBMIT else tasks.poll_job
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


def jittered(seconds, spread=0.2):
    """Spread retries and polls so that many jobs never fire at the same instant."""
    return seconds * random.uniform(1 - spread, 1 + spread)


def retry_delay(attempt_number):
    """Exponential backoff with jitter before attempt ``attempt_number + 1``."""
    base = settings.AVATAR_RETRY_BASE_SECONDS * 2 ** max(0, attempt_number - 1)
    return jittered(min(base, settings.AVATAR_RETRY_MAX_SECONDS))


def poll_delay(poll_count, *, attempt=None, model_name=None):
    """Wait before the next status call of a running prediction.

    Around its expected end when recent predictions of ``model_name`` tell us when that is
    (``cadence``); otherwise short at first, then backing off to the cap.
    """
    plan = cadence.plan_for(model_name) if attempt is not None and model_name else None
    if plan is not None:
        return cadence.next_delay(plan, cadence.age_of(attempt))
    base = settings.AVATAR_POLL_MIN_SECONDS * 1.5**poll_count
    return jittered(min(base, settings.AVATAR_POLL_MAX_SECONDS))


# --- Creating, retrying and deleting (user actions) -------------------------------------------


def create_job(*, owner, selfie_name, selfie_file, **inputs):
    """Store the selfie and the job, and schedule its submission once both are committed.

    ``selfie_file`` is a Django ``File`` holding the normalised JPEG. If the row cannot be saved
    the file is removed again, so a failure leaves nothing behind.
    """
    job = _new_job(owner, model_name=PredictionModel.FACE_TO_MODEL, **inputs)
    job.selfie.save(selfie_name, selfie_file, save=False)
    _save_new_job(job, job.selfie)
    return job


def create_tryon_job(*, owner, model_result, garment_file, **inputs):
    """A tryon-v1.6 job dressing ``model_result`` (a stored avatar image) in the garment.

    ``garment_file`` is a Django ``File`` holding the garment PNG; it is copied, like a selfie,
    and removed again if the row cannot be saved.
    """
    job = _new_job(owner, model_name=PredictionModel.TRYON, model_result=model_result, **inputs)
    job.garment_image.save("garment.png", garment_file, save=False)
    _save_new_job(job, job.garment_image)
    return job


def _new_job(owner, **fields):
    return AvatarJob(
        owner=owner,
        max_attempts=settings.AVATAR_MAX_ATTEMPTS,
        deadline_at=_now() + timedelta(seconds=settings.AVATAR_JOB_DEADLINE_SECONDS),
        next_action_at=_now(),
        step_token=uuid.uuid4(),
        **fields,
    )


def _save_new_job(job, input_file):
    try:
        with transaction.atomic():
            job.save(force_insert=True)
            _schedule(job.pk, STEP_SUBMIT, job.step_token)
    except Exception:
        input_file.delete(save=False)
        raise


def retry_job(job, *, new_seed=None):
    """Start a failed job again with a fresh budget of attempts. False if it is not failed."""
    fields = {
        "status": JobStatus.QUEUED,
        "error_name": "",
        "error_message": "",
        "finished_at": None,
        "waiting_for_slot": False,
        "max_attempts": job.attempts.count() + settings.AVATAR_MAX_ATTEMPTS,
        "deadline_at": _now() + timedelta(seconds=settings.AVATAR_JOB_DEADLINE_SECONDS),
    }
    if new_seed is not None:
        fields["seed"] = new_seed
    with transaction.atomic():
        return _set_next_step(job.pk, {"status": JobStatus.FAILED}, STEP_SUBMIT, 0.0, **fields)


def create_share_link(job, *, days):
    """A public link to a completed avatar, valid for ``days``. None if the job has no result."""
    if job.status != JobStatus.COMPLETED:
        return None
    return ShareLink.objects.create(job=job, expires_at=_now() + timedelta(days=days))


def revoke_share_link(link):
    """Stop a share link working, at once. False if it was already revoked."""
    return bool(ShareLink.objects.filter(pk=link.pk, revoked_at=None).update(revoked_at=_now()))


def delete_job(job):
    """Delete a job, its attempts and every file it owns, with the try-ons made from it."""
    tryons = list(AvatarJob.objects.filter(model_result__job=job).prefetch_related("results"))
    files = []
    for each in [job, *tryons]:
        files += [f for f in (each.selfie, each.garment_image) if f]
        for result in each.results.all():
            files += [result.image, result.thumbnail]
    with transaction.atomic():
        # The try-ons first: they would go with the avatar's results anyway (cascade).
        AvatarJob.objects.filter(pk__in=[t.pk for t in tryons]).delete()
        job.delete()
    for field_file in files:
        field_file.delete(save=False)


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
        guard = {"status": JobStatus.SUBMITTING}
        if not _set_next_step(job.pk, guard, STEP_POLL, first_poll_delay(job.model_name), **fields):
            # Unreachable while steps are claimed; raising rolls the attempt back with it.
            raise RuntimeError(f"job {job.pk} left 'submitting' while submitting")
    logger.info("job %s: attempt %s submitted as prediction %s", job.pk, number, prediction_id)
    return attempt


def first_poll_delay(model_name=None):
    """Wait before the first status call: near the expected end once ``cadence`` knows it."""
    plan = cadence.plan_for(model_name) if model_name else None
    if plan is not None:
        return cadence.first_delay(plan)
    return jittered(settings.AVATAR_FIRST_POLL_SECONDS, spread=0.1)


def current_attempt(job):
    return job.attempts.order_by("-number").first()


def record_progress(job, attempt, fashn_status, *, delay):
    """A running prediction: note its status and schedule the next poll."""
    now = _now()
    PredictionAttempt.objects.filter(pk=attempt.pk).update(
        status=fashn_status, poll_count=attempt.poll_count + 1, last_polled_at=now
    )
    job_status = _FASHN_TO_JOB_STATUS.get(fashn_status, job.status)
    guard = {"status__in": PREDICTING_STATUSES}
    return _set_next_step(job.pk, guard, STEP_POLL, delay, status=job_status)


def postpone_poll(job, *, delay):
    """Poll again later without news (rate limit, transient error)."""
    return _set_next_step(job.pk, {"status__in": PREDICTING_STATUSES}, STEP_POLL, delay)


def job_for_webhook(webhook_token):
    """The job whose current submission carries this webhook secret, or None."""
    return AvatarJob.objects.filter(webhook_token=webhook_token).only("pk").first()


def poll_now(job, webhook_token):
    """FASHN says the job's prediction changed: check its status at once.

    Only a scheduled poll is brought forward (its old message then finds a stale token); a poll
    that is running right now will see the news itself. Returns True if a poll was scheduled.
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
    from avatar_studio.fashn import RETRYABLE_RUNTIME_ERRORS

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
        retryable = error_name in RETRYABLE_RUNTIME_ERRORS or status == "time_out"
        if retryable and attempt.number < job.max_attempts:
            guard = {"status__in": PREDICTING_STATUSES}
            delay = retry_delay(attempt.number)
            return _set_next_step(job.pk, guard, STEP_SUBMIT, delay, status=JobStatus.QUEUED)
        fail_job(job, error_name or status, from_statuses=PREDICTING_STATUSES)
        return False


def fail_job(job, error_name, *, from_statuses=ACTIVE_STATUSES, message=None):
    """End a job as failed, with a message that tells its owner what to do. True if it matched."""
    matched = AvatarJob.objects.filter(pk=job.pk, status__in=from_statuses).update(
        status=JobStatus.FAILED,
        error_name=error_name,
        error_message=message or message_for(error_name),
        step_token=None,
        next_action_at=None,
        waiting_for_slot=False,
        finished_at=_now(),
        updated_at=_now(),
    )
    if matched:
        logger.info("job %s failed: %s", job.pk, error_name)
        _announce_finished(job.pk, JobStatus.FAILED)
    return bool(matched)


def complete_job(job, attempt, *, stored_outputs, credits_used):
    """Record the stored images and end the job as completed, in one transaction.

    ``stored_outputs`` is a list of ``(index, image_name, thumbnail_name, content_type)`` for
    files already written to storage. Returns False (and writes nothing) if the job moved on.
    """
    now = _now()
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
            poll_count=attempt.poll_count + 1,
        )
        for index, image_name, thumbnail_name, content_type in stored_outputs:
            result = AvatarResult(job=job, index=index, content_type=content_type)
            result.image.name = image_name
            result.thumbnail.name = thumbnail_name
            result.save()
        _announce_finished(job.pk, JobStatus.COMPLETED)
    logger.info("job %s completed with %s image(s)", job.pk, len(stored_outputs))
    return True


def _announce_finished(job_id, status):
    def send():
        # A failing listener must not undo or hide the job's end: log it and carry on.
        for receiver, error in job_finished.send_robust(
            sender=AvatarJob, job_id=job_id, status=str(status)
        ):
            if isinstance(error, Exception):
                logger.error("job %s: job_finished receiver %r failed: %r", job_id, receiver, error)

    transaction.on_commit(send)


# --- Recovery ---------------------------------------------------------------------------------


def overdue_jobs(now=None):
    """Active jobs whose next step should have started a while ago (lost message, dead worker)."""
    now = now or _now()
    cutoff = now - timedelta(seconds=settings.AVATAR_SWEEP_GRACE_SECONDS)
    return AvatarJob.objects.filter(status__in=ACTIVE_STATUSES, next_action_at__lt=cutoff)


def reissue_step(job):
    """Give an overdue job a new step token and schedule its step now. False if it moved on."""
    step = STEP_SUBMIT if job.status == JobStatus.QUEUED else STEP_POLL
    guard = {"status": job.status, "next_action_at": job.next_action_at}
    return _set_next_step(job.pk, guard, step, 0.0)


def next_job_waiting_for_slot():
    return (
        AvatarJob.objects.filter(status=JobStatus.QUEUED, waiting_for_slot=True)
        .order_by("created_at")
        .first()
    )


def wake_job(job):
    """Run a queued job's submit step now (a FASHN slot just freed up)."""
    guard = {"status": JobStatus.QUEUED, "waiting_for_slot": True}
    return _set_next_step(job.pk, guard, STEP_SUBMIT, 0.0, waiting_for_slot=False)
