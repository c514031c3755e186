"""A HEIC selfie between its upload and its normalisation: the one place that replaces it.

The upload request stores a HEIC as received (``images.check_selfie``: every check but the
decode), because libheif decodes only at full size and that would hold the request for most of
a second. The received file still carries the phone's metadata (EXIF with GPS), so it is never
shown, exported or sent anywhere: the pipeline's first step (before a FASHN slot is taken), the
selfie view and the data export each call ``normalise_received`` first, which stores the
normalised JPEG in its place and deletes the HEIC. A HEIC that turns out damaged when decoded is
deleted as well, and the caller fails the job with the upload form's message. A job that ends
without its submit step ever running (its deadline passed in the queue) has its HEIC normalised
by the hourly retention sweep (``normalise_left_behind``).
"""

import logging

from django.conf import settings
from django.core.files.base import ContentFile

from .images import NormalisedSelfie, SelfieRejected, normalise_selfie
from .models import AvatarJob, JobStatus

logger = logging.getLogger(__name__)

RECEIVED_SUFFIX = ".heic"


def is_received(job):
    return job.selfie.name.endswith(RECEIVED_SUFFIX)


def normalise_received(job):
    """Make sure ``job.selfie`` is the normalised JPEG (or gone). False if the received HEIC
    proved damaged: it is deleted, and ``job.selfie`` is empty.

    Safe to run twice at once (the pipeline and the selfie view): the row changes only if it
    still names the HEIC, and the one that loses removes the JPEG it wrote, unless it is the
    winner's own file.
    """
    if not job.selfie or not is_received(job):
        return True
    received = job.selfie.name
    storage = job.selfie.storage
    try:
        with storage.open(received, "rb") as stored:
            selfie = normalise_selfie(stored, max_bytes=settings.SELFIE_MAX_UPLOAD_BYTES)
    except FileNotFoundError:  # another caller replaced it a moment ago
        job.refresh_from_db(fields=["selfie"])
        return bool(job.selfie)
    except SelfieRejected as rejection:
        logger.info("job %s: the received HEIC failed to decode: %s", job.pk, rejection)
        _replace(job, received, "")
        return False
    jpeg_name = storage.save(
        job.selfie.field.generate_filename(job, NormalisedSelfie.file_name),
        ContentFile(selfie.jpeg),
    )
    if not _replace(job, received, jpeg_name) and job.selfie.name != jpeg_name:
        storage.delete(jpeg_name)
    return bool(job.selfie)


def normalise_left_behind():
    """Normalise the received HEICs of jobs that ended before their submit step ran. Returns
    how many there were."""
    jobs = AvatarJob.objects.filter(
        status__in=[JobStatus.FAILED, JobStatus.COMPLETED], selfie__endswith=RECEIVED_SUFFIX
    ).only("pk", "selfie", "owner_id")
    count = 0
    for job in jobs.iterator():
        normalise_received(job)
        count += 1
    return count


def _replace(job, received, name):
    """Point the row at ``name`` if it still names the received file, then delete that file."""
    matched = AvatarJob.objects.filter(pk=job.pk, selfie=received).update(selfie=name)
    if matched:
        job.selfie.storage.delete(received)
        job.selfie.name = name
    else:
        job.refresh_from_db(fields=["selfie"])
    return bool(matched)
