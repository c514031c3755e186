"""The pipeline's steps: submit a job's prediction, poll it, recover what was lost.

Each step makes at most one FASHN request, records what it learnt through ``transitions`` and
schedules the next step with a countdown: a worker never sleeps waiting for FASHN. Whether a
failure is worth retrying is read from the client's exception types alone.
"""

import base64
import contextlib
import functools
import logging
import time

from django import db
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from avatar_studio import fashn

from .. import received_selfies, selectors
from ..files import STORAGE_ERRORS
from ..models import PREDICTING_STATUSES, AvatarResult, JobStatus
from . import cadence, fair_share, outputs, transitions
from .failures import (
    DEADLINE_EXCEEDED,
    OUT_OF_CREDITS,
    PREDICTION_LOST,
    REQUEST_REFUSED,
    RESULT_UNAVAILABLE,
    SELFIE_DAMAGED,
    SELFIE_MISSING,
    SERVICE_MISCONFIGURED,
    SUBMISSION_UNCONFIRMED,
    TRYON_INPUT_MISSING,
)
from .limits import fashn_limits

logger = logging.getLogger(__name__)

# How long to wait before asking for a slot again when all are taken. A freed slot wakes the
# waiting job first in line (``fair_share``) at once, so this is only the safety net (a lost
# wake-up, a crashed worker's slot expiring): rechecking often only fills the queue with steps
# that find no slot.
SLOT_RECHECK_SECONDS = 60.0

# How many waiting jobs a freed slot tries before giving up: a job another worker woke a moment
# earlier no longer takes a wake-up, and the slot goes to the next in line instead.
_WAKE_TRIES = 3


def fashn_client():
    """The configured FASHN client; one per process, so its connections are reused."""
    return _client(
        settings.FASHN_API_KEY,
        settings.FASHN_BASE_URL,
        settings.FASHN_CONNECT_TIMEOUT,
        settings.FASHN_READ_TIMEOUT,
    )


@functools.cache
def _client(api_key, base_url, connect_timeout, read_timeout):
    return fashn.FashnClient(
        api_key, base_url, connect_timeout=connect_timeout, read_timeout=read_timeout
    )


def slot_lease_seconds():
    # Long enough to outlive the gap between two polls, short enough that a crashed worker's
    # slot comes back soon.
    return settings.AVATAR_POLL_MAX_SECONDS + settings.AVATAR_STEP_LEASE_SECONDS


def data_uri(field_file, content_type):
    with field_file.open("rb") as stored:
        encoded = base64.b64encode(stored.read()).decode("ascii")
    return f"data:{content_type};base64,{encoded}"


def selfie_data_uri(job):
    return data_uri(job.selfie, "image/jpeg")


def prediction_inputs(job):
    """The typed inputs of the job's next /v1/run, its images as data URIs.

    Raises ``FileNotFoundError`` or ``ValueError`` when an input image is no longer stored.
    """
    if job.is_tryon:
        model_image = data_uri(job.model_result.image, job.model_result.content_type)
        garment_image = data_uri(job.garment_image, "image/png")
        return job.tryon_inputs(model_image, garment_image)
    return job.fashn_inputs(selfie_data_uri(job))


def _run(inputs, hook_url):
    """Send one /v1/run through the client's typed call for the inputs' model."""
    if isinstance(inputs, fashn.TryOnInputs):
        return fashn_client().run_tryon(inputs, webhook_url=hook_url)
    if isinstance(inputs, fashn.TryOnMaxInputs):
        return fashn_client().run_tryon_max(inputs, webhook_url=hook_url)
    return fashn_client().run_face_to_model(inputs, webhook_url=hook_url)


def webhook_url(token):
    """Where FASHN should call when the prediction ends, or None when we cannot be reached."""
    if not settings.PUBLIC_BASE_URL:
        return None
    path = reverse("avatars:fashn-webhook", kwargs={"token": token})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


# --- Submit ------------------------------------------------------------------------------------


def submit_job(job_id, token, *, in_turn=False):
    """Submit the job's next prediction, once: the id is saved before anything else happens.

    ``in_turn``: a freed slot was just handed to this job as the first in line, so its turn is
    not asked again (the fair order's query is most of a hand-over's time).
    """
    job = transitions.claim_step(job_id, token, [JobStatus.QUEUED])
    if job is None:
        return
    # An uploaded HEIC is decoded here, not in the upload request, and before a slot is taken:
    # a slot must not idle through a decode. First of all, so no job keeps one as received.
    try:
        normalised = received_selfies.normalise_received(job)
    except STORAGE_ERRORS as error:
        _storage_out_of_reach(job, error, transitions.requeue)
        return
    if not normalised:
        transitions.fail_job(job, SELFIE_DAMAGED)
        return
    if timezone.now() >= job.deadline_at:
        transitions.fail_job(job, DEADLINE_EXCEEDED)
        return
    limits = fashn_limits()
    # The slot first: a job that finds none costs a Redis call and an update, not reading its
    # images, nor the fair order's query (no slot is free, so whose turn it is does not matter;
    # a slot freed since is handed on by _wait_for_slot). Only in its turn: a job waiting
    # before it is owed the next free slot.
    if not in_turn and limits.in_flight.free() == 0:
        _wait_for_slot(job, limits)
        return
    in_turn = in_turn or fair_share.has_turn(job)
    if not in_turn or not limits.in_flight.acquire(job.pk, slot_lease_seconds()):
        _wait_for_slot(job, limits)
        return
    try:
        inputs = prediction_inputs(job)
    except (FileNotFoundError, ValueError):  # a file is gone, or the job never had one
        transitions.fail_job(job, TRYON_INPUT_MISSING if job.is_tryon else SELFIE_MISSING)
        _release_slot(job, limits)
        return
    except STORAGE_ERRORS as error:  # after FileNotFoundError, an OSError too
        # Requeued before the slot is handed on: the wake-up must not find this job waiting.
        _storage_out_of_reach(job, error, transitions.requeue)
        _release_slot(job, limits)
        return
    wait = limits.run_rate.take()
    if wait:
        limits.in_flight.release(job.pk)
        transitions.requeue(job, delay=cadence.after_rate_limit(wait))
        return
    webhook_token = transitions.begin_submission(job)
    if webhook_token is None:
        limits.in_flight.release(job.pk)
        return

    try:
        prediction_id = _run(inputs, webhook_url(webhook_token))
    except fashn.FashnError as error:
        _handle_submit_error(job, error, limits)
        return
    # In the log first: if saving it fails, staff can still find the prediction.
    logger.info("job %s: FASHN accepted prediction %s", job.pk, prediction_id)
    _save_prediction_id(job, prediction_id)


def _save_prediction_id(job, prediction_id):
    """Save the id, riding out a short database outage while the step's lease lasts.

    The prediction exists and is being charged: losing its id now would leave the job to the
    sweeper, which can only fail it as SubmissionUnconfirmed. So a database error is retried,
    on a fresh connection, until the lease taken by ``claim_step`` (``next_action_at``) ends.
    """
    lease_end = job.next_action_at
    pause = 0.2
    while True:
        try:
            transitions.record_submission(job, prediction_id)
            return
        except (db.OperationalError, db.InterfaceError) as error:
            left = (lease_end - timezone.now()).total_seconds() - 0.25
            if left <= 0:
                raise
            logger.warning(
                "job %s: saving prediction %s failed (%r), trying again",
                job.pk,
                prediction_id,
                error,
            )
            with contextlib.suppress(db.Error):
                db.connection.close()
            time.sleep(min(pause, left))
            pause = min(pause * 2, 2.0)


def _handle_submit_error(job, error, limits):
    if error.maybe_submitted:
        # The request may have created a prediction whose id we never saw. Sending it again
        # could charge the user twice, so the job stops here and the owner decides.
        logger.warning("job %s: submission in doubt: %r", job.pk, error)
        transitions.fail_job(job, SUBMISSION_UNCONFIRMED)
        # Keep the slot until its lease ends: the unseen prediction may be running.
        return
    if isinstance(error, fashn.ConcurrencyLimitError):
        _yield_slot_to_unknown_prediction(job, error, limits)
        return
    limits.in_flight.release(job.pk)
    if error.retryable:
        logger.info("job %s: submission refused for now (%r), requeued", job.pk, error)
        transitions.requeue(job, delay=cadence.after_refusal(error))
        _wake_waiting_job()
        return
    logger.error("job %s: submission refused: %r", job.pk, error)
    if isinstance(error, fashn.UnauthorizedError | fashn.ConfigurationError):
        transitions.fail_job(job, SERVICE_MISCONFIGURED)
    elif isinstance(error, fashn.OutOfCreditsError):
        transitions.fail_job(job, OUT_OF_CREDITS)
    else:
        transitions.fail_job(job, REQUEST_REFUSED)
    _wake_waiting_job()


def _yield_slot_to_unknown_prediction(job, error, limits):
    """FASHN counts more predictions in flight than our slots do: one we do not know of holds
    a slot (the slot set was lost with Redis, another client shares the account, a job failed
    at its deadline while its prediction still ran, a lease ran out while a poll was late).

    Released, as for other refusals, the slot would wake the next waiting job only for it to be
    refused too, and the next, until that prediction ends: dozens of refused runs for one slot
    miscounted. Instead a stand-in keeps the slot taken until this job tries again, when FASHN
    says one may end (its Retry-After) or after the usual wait.
    """
    delay = cadence.after_refusal(error)
    logger.info("job %s: FASHN has no slot free (%r), requeued; its slot kept taken", job.pk, error)
    limits.in_flight.hand_to_stand_in(job.pk, delay)
    transitions.requeue(job, delay=delay)


# --- Poll --------------------------------------------------------------------------------------


def poll_job(job_id, token):
    """Ask FASHN once how the job's prediction is doing, and act on the answer."""
    job = transitions.claim_step(job_id, token, PREDICTING_STATUSES)
    if job is None:
        return
    limits = fashn_limits()
    if timezone.now() >= job.deadline_at:
        if transitions.fail_job(job, DEADLINE_EXCEEDED):
            _release_slot(job, limits)
        return
    attempt = selectors.current_attempt(job)
    wait = limits.status_rate.take()
    if wait:
        transitions.postpone_poll(job, delay=cadence.after_rate_limit(wait))
        return

    asked_at = timezone.now()
    try:
        prediction = fashn_client().status(attempt.prediction_id)
    except fashn.NotFoundError:
        if transitions.fail_job(job, PREDICTION_LOST, from_statuses=PREDICTING_STATUSES):
            _release_slot(job, limits)
        return
    except fashn.FashnError as error:
        if not error.retryable:
            logger.error("job %s: status check refused: %r", job.pk, error)
            if transitions.fail_job(job, SERVICE_MISCONFIGURED, from_statuses=PREDICTING_STATUSES):
                _release_slot(job, limits)
            return
        delay = cadence.after_refusal(error, cadence.poll_delay(attempt.poll_count))
        transitions.postpone_poll(job, delay=delay)
        return

    answered_at = timezone.now()
    status = prediction.status
    if status == fashn.PredictionStatus.COMPLETED:
        # The prediction no longer counts against FASHN's in-flight limit: hand the slot on now,
        # submitting the next job from here, rather than after the outputs are copied.
        _release_slot(job, limits, hand_over=True)
        _store_results(job, attempt, prediction, end_seen_at=answered_at)
    elif status.is_terminal:
        error = prediction.error
        transitions.record_attempt_failure(
            job,
            attempt,
            status=str(status),
            error_name=error.name if error else "",
            error_message=error.message if error else "",
        )
        _release_slot(job, limits)
    else:
        limits.in_flight.refresh(job.pk, slot_lease_seconds())
        delay = cadence.poll_delay(attempt.poll_count, attempt=attempt, model_name=job.model_name)
        transitions.record_progress(job, attempt, str(status), asked_at=asked_at, delay=delay)


def _store_results(job, attempt, prediction, *, end_seen_at):
    try:
        stored = outputs.store_outputs(job, attempt, prediction.outputs)
    except fashn.FashnError as error:
        if error.retryable:
            transitions.postpone_poll(job, delay=cadence.after_refusal(error))
            return
        logger.error("job %s: outputs of %s unavailable: %r", job.pk, attempt.prediction_id, error)
        transitions.fail_job(job, RESULT_UNAVAILABLE, from_statuses=PREDICTING_STATUSES)
        return
    except STORAGE_ERRORS as error:
        # The next poll sees the prediction completed again and stores its outputs then.
        _storage_out_of_reach(job, error, transitions.postpone_poll)
        return
    completed = transitions.complete_job(
        job,
        attempt,
        stored_outputs=stored,
        credits_used=prediction.credits_used,
        end_seen_at=end_seen_at,
    )
    if completed:
        cadence.forget_history(job.model_name)
    else:
        # Another run of this step (the sweeper re-issued it while this one was still
        # downloading) completed the job first. Both wrote the same file names, so remove only
        # what the job's results do not point to: never the files of the completed job.
        outputs.delete_stored(_not_kept(job, stored))


def _storage_out_of_reach(job, error, reschedule):
    """The media storage failed the step (S3 out of reach or refusing, the disk failing): a
    transient condition, retried like a request FASHN refused for now.

    ``reschedule`` (``transitions.requeue`` or ``postpone_poll``) sends the same step again
    after the transient wait, long before its lease would let the sweeper do it. Nothing is left
    half-done: a submit has sent nothing to FASHN yet, and a store has removed what it wrote
    (its file names are the attempt's own, so the next try writes over anything left). The job's
    deadline ends the retries: a step rescheduled in time is never overdue for the sweeper.
    """
    logger.warning("job %s: media storage failed (%r), the step runs again", job.pk, error)
    if timezone.now() >= job.deadline_at:
        transitions.fail_job(job, DEADLINE_EXCEEDED)
        return
    reschedule(job, delay=cadence.after_refusal(error))


def _not_kept(job, stored):
    """The stored outputs whose files no result of the job refers to."""
    kept = set()
    for image, thumbnail in AvatarResult.objects.filter(job_id=job.pk).values_list(
        "image", "thumbnail"
    ):
        kept.update((image, thumbnail))
    return [
        output
        for output in stored
        if output.image_name not in kept and output.thumbnail_name not in kept
    ]


def _release_slot(job, limits, *, hand_over=False):
    limits.in_flight.release(job.pk)
    _wake_waiting_job(submit_now=hand_over)


def _wait_for_slot(job, limits):
    """Put the job among those waiting for a slot; if a slot is free even so, wake the first in
    line for it.

    A slot is free here when the job deferred to one waiting before it, or when a slot freed
    between the job's look and its joining the waiting jobs (that release woke someone else, or
    no one): either way no slot stays idle until the recheck.
    """
    transitions.requeue(job, delay=cadence.jittered(SLOT_RECHECK_SECONDS), waiting_for_slot=True)
    if limits.in_flight.free() > 0:
        _wake_waiting_job(submit_now=True)


def _wake_waiting_job(*, submit_now=False):
    """Give a freed slot to the job first in line for one (``fair_share``).

    ``submit_now`` submits it within this step: sent through the queue, its submit would wait
    behind every step already there while the slot stays idle.
    """
    for _try in range(_WAKE_TRIES):
        waiting = fair_share.next_job_waiting_for_slot()
        if waiting is None:
            return
        token = transitions.wake_job(waiting)
        if token is None:
            continue  # woken by another worker a moment ago: the next in line gets this slot
        if submit_now:
            # The woken step's own message is sent too; whichever claims the token first
            # submits, the other finds it taken and does nothing.
            submit_job(waiting.pk, token, in_turn=True)
        return


# --- Recovery ----------------------------------------------------------------------------------


def sweep_overdue_jobs():
    """Re-issue steps that should have run by now, and end what can no longer finish.

    Returns counts by outcome, for the log.
    """
    counts = {"reissued": 0, "unconfirmed": 0, "expired": 0}
    limits = fashn_limits()
    now = timezone.now()
    for job in selectors.overdue_jobs(now).iterator():
        if job.deadline_at <= now:
            if transitions.fail_job(job, DEADLINE_EXCEEDED, from_statuses=[job.status]):
                counts["expired"] += 1
                if job.status != JobStatus.SUBMITTING:
                    _release_slot(job, limits)
        elif job.status == JobStatus.SUBMITTING:
            # A worker died with a /v1/run in flight: it may have reached FASHN.
            if transitions.fail_job(
                job, SUBMISSION_UNCONFIRMED, from_statuses=[JobStatus.SUBMITTING]
            ):
                counts["unconfirmed"] += 1
        elif transitions.reissue_step(job):
            counts["reissued"] += 1
    return counts
