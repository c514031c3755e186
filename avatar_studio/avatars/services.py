"""The user actions on avatars: create, retry, delete. Every door calls these and nothing else.

The browser views, the API, the admin's actions, the store and management commands parse their
input, call one function here and present the outcome. Each function owns its rules; when one
says no, it raises ``refusals.Refused`` with a typed reason that every door shows in the same
words. Status changes themselves are the pipeline's compare-and-swap transitions.

Public display (offer, withdraw, approve, reject) lives in ``review.services``; share links in
``sharing``.
"""

import io
import logging
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from avatar_studio import fashn

from . import options, quota, received_selfies
from .consent import CONSENT_VERSION
from .files import STORAGE_ERRORS
from .images import NormalisedSelfie
from .models import AvatarJob, JobStatus, PredictionModel, ReviewState
from .pipeline import transitions
from .refusals import (
    ALREADY_BEST,
    CHANGED_MEANWHILE,
    GARMENT_GONE,
    INPUT_REJECTED,
    NO_SUCH_IMAGE,
    NOT_MADE_YET,
    NOTHING_TO_SHOW,
    PICK_WHILE_OFFERED,
    REMAKE_SELFIE_GONE,
    RETRY_COMPLETED,
    RETRY_RUNNING,
    SELFIE_GONE,
    STORAGE_RETRY_AFTER_SECONDS,
    STORAGE_UNAVAILABLE,
    TRYON_INPUT_REJECTED,
    Refused,
)

logger = logging.getLogger(__name__)

# Stored names come from the job (``models.selfie_upload_to``); these only give the extension.
_GARMENT_NAME = "garment.png"


def create_avatar(*, owner, selfie, inputs, in_same_transaction=None):
    """A new avatar from ``selfie`` (an ``images.NormalisedSelfie``, or an ``images.ReceivedHeic``
    that the pipeline normalises before anything else), submitted once committed.

    It reserves its estimated credits from the owner's daily allowance (``quota``: ``Refused``
    with ``quota_exceeded`` when they are more than are left)
    and records the consent text the owner agreed to. ``inputs`` are the job's FASHN inputs
    (``forms.job_inputs_from``); the quality, resolution and number of images left out take the
    defaults of ``options``, so every avatar records what it was sent with and what it may cost
    (``ValueError`` for a value not offered: the doors refuse those first, by name).
    ``in_same_transaction(job)``, if given, runs inside the transaction that saves the job, so
    that what it writes (an API webhook) exists before the submission is sent, and nothing is
    saved if it fails. If anything fails, the selfie file is
    removed again and nothing is reserved: a failure leaves nothing behind. Refused
    (``storage_unavailable``) when the selfie cannot be stored (S3 out of reach, a full disk).
    """
    job = transitions.new_job(
        owner,
        model_name=PredictionModel.FACE_TO_MODEL,
        consent_version=CONSENT_VERSION,
        consented_at=timezone.now(),
        **options.check(inputs),
    )
    with _storage_refusal(job):
        try:
            with quota.reservation(job), transaction.atomic():
                job.selfie.save(selfie.file_name, ContentFile(selfie.content), save=False)
                transitions.start_new_job(job)
                if in_same_transaction is not None:
                    in_same_transaction(job)
        except BaseException:
            if job.selfie:
                job.selfie.delete(save=False)
            raise
    return job


@contextmanager
def _storage_refusal(job):
    """A storage that cannot take the job's file refuses the action in the user's words."""
    try:
        yield
    except STORAGE_ERRORS as error:
        logger.error("job %s not created: its file could not be stored: %r", job.pk, error)
        raise Refused(STORAGE_UNAVAILABLE, retry_after=STORAGE_RETRY_AFTER_SECONDS) from error


def create_tryon(*, owner, model_result, garment_png, model_name=PredictionModel.TRYON, **inputs):
    """A try-on job (``model_name`` tryon-v1.6 or tryon-max) dressing ``model_result`` (a
    stored avatar image) in the garment.

    ``owner`` is the shopper who asked, whoever's avatar ``model_result`` is: the try-on is
    theirs. Like ``create_avatar`` it reserves its estimated credits from the owner's daily
    allowance (``quota``: ``Refused`` with ``quota_exceeded``, and nothing saved, when they are
    more than are left). ``garment_png`` (bytes) is copied, like a selfie, and removed again if
    the job cannot be saved or is refused.
    """
    job = transitions.new_job(owner, model_name=model_name, model_result=model_result, **inputs)
    with _storage_refusal(job):
        try:
            with quota.reservation(job), transaction.atomic():
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
    seed the new attempt uses. A retried avatar or try-on reserves its credits again from its
    owner's allowance (``quota``: it will cost if it succeeds) and is refused with
    ``quota_exceeded`` if they are more than are left.
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
    # Deleted under the retention policy (``retention``): nothing left to send again.
    if job.is_tryon and not job.garment_image:
        return GARMENT_GONE
    if not job.is_tryon and not job.selfie:
        return SELFIE_GONE
    # The inputs themselves were refused: sending them again fails again. A new seed does not
    # help either (after ContentModerationError too: it is the photo, not the image drawn).
    return (TRYON_INPUT_REJECTED if job.is_tryon else INPUT_REJECTED).get(job.error_name)


def delete_avatar(job):
    """Delete an avatar, its attempts, its images and the try-ons made of it.

    The files go once the deletion has committed, by the ``post_delete`` receivers in ``files``:
    the one place that removes files of deleted rows, whatever deleted them.
    """
    with transaction.atomic():
        # The try-ons first: they would go with the avatar's results anyway (cascade).
        AvatarJob.objects.filter(model_result__job=job).delete()
        job.delete()


# --- Candidates ---------------------------------------------------------------------------------

# Offered for public display: staff review (or have approved) the image the avatar shows now.
_OFFERED = (ReviewState.PENDING, ReviewState.APPROVED)


def pick_candidate(job, *, index):
    """Make image ``index`` of a completed avatar "my avatar": the one picture the gallery, share
    links, review and the store show of it (``AvatarJob.avatar_result``). Returns that result.

    Refused while the avatar is offered for public display, unless it is the image already shown:
    staff approve an image, not whichever the owner picks later.
    """
    result = _candidate(job, index)
    current = job.avatar_result
    if current is not None and result.pk == current.pk:
        return result
    if job.review_state in _OFFERED:
        raise Refused(PICK_WHILE_OFFERED)
    matched = (
        AvatarJob.objects.filter(pk=job.pk, status=JobStatus.COMPLETED)
        .exclude(review_state__in=_OFFERED)
        .update(chosen_result=result, updated_at=timezone.now())
    )
    if not matched:
        raise Refused(CHANGED_MEANWHILE)
    job.chosen_result = result
    logger.info("job %s: image %s picked", job.pk, index)
    return result


def discard_other_candidates(job):
    """Delete every image of a completed avatar but the one it shows, and the try-ons made of
    them. Returns how many images went. The files go once the deletion has committed, by the
    ``post_delete`` receivers in ``files``."""
    keep = job.avatar_result
    if keep is None:
        raise Refused(_not_completed(job))
    with transaction.atomic():
        # Pin the kept image, so that "the first" cannot come to mean another one.
        AvatarJob.objects.filter(pk=job.pk).update(chosen_result=keep)
        others = job.results.exclude(pk=keep.pk)
        AvatarJob.objects.filter(model_result__in=others).delete()
        count, _ = others.delete()
    job.chosen_result = keep
    logger.info("job %s: %s other candidate(s) discarded", job.pk, count)
    return count


def remake_in_high_quality(job, *, index):
    """A new avatar made from candidate ``index`` of ``job`` alone, at the best quality and the
    largest size offered (``options.current().best``), linked to ``job`` as its origin.

    It is the same request as the candidate (selfie, prompt, aspect ratio, the candidate's own
    seed, ``fashn.candidate_seed``) with one image, made through ``create_avatar``: its cost and
    the daily quota are a new avatar's. The selfie is copied, so the origin may be deleted later.
    Refused when the selfie has been deleted under the retention policy (nothing is created).
    """
    _candidate(job, index)
    reason = remake_refusal(job)
    if reason is not None:
        raise Refused(reason)
    selfie = _stored_selfie(job)
    inputs = remake_inputs(job, index)

    def link_origin(remake):
        remake.origin = job
        remake.save(update_fields=["origin"])

    remake = create_avatar(
        owner=job.owner, selfie=selfie, inputs=inputs, in_same_transaction=link_origin
    )
    logger.info("job %s: candidate %s remade in high quality as %s", job.pk, index, remake.pk)
    return remake


def remake_inputs(job, index):
    """The request a high-quality remake of candidate ``index`` sends: the candidate's own
    (prompt, aspect ratio, its seed, format) with ``remake_options``. Once the selfie is gone the
    job page offers these on the upload form, so the same selfie uploaded again gives the remake.
    """
    return {
        "prompt": job.prompt,
        "aspect_ratio": job.aspect_ratio,
        "seed": fashn.candidate_seed(job.seed, index),
        "output_format": job.output_format,
        "return_base64": job.return_base64,
        **remake_options(),
    }


def remake_options():
    """What a high-quality remake asks for: one image, at the best quality and size offered.
    The job page shows its cost from these (``options.estimated_credits``)."""
    return {**options.current().best, "num_images": 1}


def remake_refusal(job):
    """The ``Reason`` ``remake_in_high_quality`` would refuse ``job`` for (whatever image), or
    None. The job page asks this too, to offer the remake only where it can be made."""
    if job.status != JobStatus.COMPLETED:
        return _not_completed(job)
    if all(getattr(job, field) == value for field, value in options.current().best.items()):
        return ALREADY_BEST
    if not job.selfie:
        return REMAKE_SELFIE_GONE
    return None


def _candidate(job, index):
    """Result ``index`` of a completed avatar, or ``Refused``."""
    if job.status != JobStatus.COMPLETED:
        raise Refused(_not_completed(job))
    result = job.results.filter(index=index).first()
    if result is None:
        raise Refused(NO_SUCH_IMAGE)
    return result


def _not_completed(job):
    return NOTHING_TO_SHOW if job.status == JobStatus.FAILED else NOT_MADE_YET


def _stored_selfie(job):
    """The job's stored selfie, normalised, or ``Refused`` once deleted."""
    if not received_selfies.normalise_received(job) or not job.selfie:
        raise Refused(REMAKE_SELFIE_GONE)
    try:
        with job.selfie.open("rb") as stored:
            jpeg = stored.read()
    except FileNotFoundError:
        # Deleted by the retention sweep between the read of the row and of the file.
        raise Refused(REMAKE_SELFIE_GONE) from None
    with Image.open(io.BytesIO(jpeg)) as image:
        width, height = image.size
    return NormalisedSelfie(jpeg=jpeg, width=width, height=height)
