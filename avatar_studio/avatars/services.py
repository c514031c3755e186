"""The user actions on avatars: create, retry, delete. Every door calls these and nothing else.

The browser views, the API, the admin's actions, the store and management commands parse their
input, call one function here and present the outcome. Each function owns its rules; when one
says no, it raises ``refusals.Refused`` with a typed reason that every door shows in the same
words. Status changes themselves are the pipeline's compare-and-swap transitions.

Public display (offer, withdraw, approve, reject) lives in ``review.services``; share links in
``sharing``.
"""

import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from avatar_studio import fashn

from . import options, quota
from .consent import CONSENT_VERSION
from .models import AvatarJob, JobStatus, PredictionModel
from .pipeline import transitions
from .refusals import (
    CHANGED_MEANWHILE,
    INPUT_REJECTED,
    RETRY_COMPLETED,
    RETRY_RUNNING,
    SELFIE_GONE,
    Refused,
)

logger = logging.getLogger(__name__)

# Stored names come from the job (``models.selfie_upload_to``); this only gives the extension.
_SELFIE_NAME = "selfie.jpg"
_GARMENT_NAME = "garment.png"


def create_avatar(*, owner, selfie, inputs, in_same_transaction=None):
    """A new avatar from ``selfie`` (an ``images.NormalisedSelfie``), submitted once committed.

    It reserves its estimated credits from the owner's daily allowance (``quota``: ``Refused``
    with ``quota_exceeded`` when they are more than are left)
    and records the consent text the owner agreed to. ``inputs`` are the job's FASHN inputs
    (``forms.job_inputs_from``); the quality, resolution and number of images left out take the
    defaults of ``options``, so every avatar records what it was sent with and what it may cost
    (``ValueError`` for a value not offered: the doors refuse those first, by name).
    ``in_same_transaction(job)``, if given, runs inside the transaction that saves the job, so
    that what it writes (an API webhook) exists before the submission is sent, and nothing is
    saved if it fails. If anything fails, the selfie file is
    removed again and nothing is reserved: a failure leaves nothing behind.
    """
    job = transitions.new_job(
        owner,
        model_name=PredictionModel.FACE_TO_MODEL,
        consent_version=CONSENT_VERSION,
        consented_at=timezone.now(),
        **options.check(inputs),
    )
    try:
        with quota.reservation(job), transaction.atomic():
            job.selfie.save(_SELFIE_NAME, ContentFile(selfie.jpeg), save=False)
            transitions.start_new_job(job)
            if in_same_transaction is not None:
                in_same_transaction(job)
    except BaseException:
        if job.selfie:
            job.selfie.delete(save=False)
        raise
    return job


def create_tryon(*, owner, model_result, garment_png, **inputs):
    """A tryon-v1.6 job dressing ``model_result`` (a stored avatar image) in the garment.

    ``garment_png`` (bytes) is copied, like a selfie, and removed again if the job cannot be
    saved. Try-ons are made by the store for an avatar's owner; they take nothing from the
    daily allowance (the credits ledger records what they cost when they end).
    """
    job = transitions.new_job(
        owner, model_name=PredictionModel.TRYON, model_result=model_result, **inputs
    )
    try:
        job.garment_image.save(_GARMENT_NAME, ContentFile(garment_png), save=False)
        transitions.start_new_job(job)
    except BaseException:
        if job.garment_image:
            job.garment_image.delete(save=False)
        raise
    return job


def retry_job(job, *, new_seed=False):
    """Send a failed avatar or try-on again, with a fresh budget of attempts.

    With ``new_seed`` the new attempt uses a random seed instead of the job's own. Returns the
    seed the new attempt uses. A retried avatar reserves its credits again (``quota``: it will
    cost if it succeeds) and is refused with ``quota_exceeded`` if they are more than are left.
    Refused (``retry_refusal``) unless the job failed in a way a new attempt can fix.
    """
    reason = retry_refusal(job)
    if reason is not None:
        raise Refused(reason)
    seed = fashn.random_seed() if new_seed else job.seed
    with quota.reservation(job, retry=True):
        if not transitions.restart_failed_job(job, seed=seed):
            raise Refused(CHANGED_MEANWHILE)
    logger.info("job %s: retried with seed %s", job.pk, seed)
    return seed


def retry_refusal(job):
    """The ``Reason`` ``retry_job`` would refuse ``job`` for, or None if it may be retried.

    The job page asks this too, so it offers Retry only where ``retry_job`` accepts it.
    """
    if job.status == JobStatus.COMPLETED:
        return RETRY_COMPLETED
    if job.status != JobStatus.FAILED:
        return RETRY_RUNNING
    if not job.is_tryon and not job.selfie:
        # Deleted under the retention policy (``retention``): nothing left to send again.
        return SELFIE_GONE
    # The inputs themselves were refused: sending them again fails again. A new seed does not
    # help either (after ContentModerationError too: it is the photo, not the image drawn).
    return INPUT_REJECTED.get(job.error_name)


def delete_avatar(job):
    """Delete an avatar, its attempts, its images and the try-ons made of it.

    The files go once the deletion has committed, by the ``post_delete`` receivers in ``files``:
    the one place that removes files of deleted rows, whatever deleted them.
    """
    with transaction.atomic():
        # The try-ons first: they would go with the avatar's results anyway (cascade).
        AvatarJob.objects.filter(model_result__job=job).delete()
        job.delete()
