"""How long files are kept, and removing them: a job's input (an avatar's selfie, a try-on's
garment image) after its retention, every file of a deleted job, result or user.

Selfies are the personal data here. A completed avatar no longer needs its selfie, so it is
deleted once the completion has committed (``AVATAR_COMPLETED_SELFIE_RETENTION_HOURS``, default 0:
at once). A failed avatar keeps its selfie so that its owner can press Retry, for
``AVATAR_FAILED_SELFIE_RETENTION_DAYS`` (default 7); then the selfie is deleted and the job's
message says why it can no longer be retried. A try-on's garment image (whatever picture the
shopper's shop sent, which may show a person) follows the same two rules: a try-on is a job of
its shopper's like any other. Its pictures stay until the try-on, its shopper or its avatar goes.
``purge_expired_files`` (a management command, and a beat task every hour) is the sweep that
enforces both; the ``job_finished`` receiver only makes the common case happen at once.

The files of deleted rows are ``files``' business.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import received_selfies
from .files import delete_files
from .models import AvatarJob, JobStatus

logger = logging.getLogger(__name__)


def failed_selfie_purged_message(days):
    return (
        f"This avatar could not be made, and {days} days later its selfie was deleted, as our "
        "privacy policy says. So it can no longer be retried: upload your selfie again to make "
        "a new avatar."
    )


def failed_garment_purged_message(days):
    return (
        f"This try-on could not be made, and {days} days later its garment picture was deleted, "
        "as our privacy policy says. So it can no longer be retried: ask for the try-on again "
        "to make a new one."
    )


def input_field(job):
    """The name of the job's input file field: a try-on's garment image, an avatar's selfie."""
    return "garment_image" if job.is_tryon else "selfie"


@dataclass
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    completed: list = field(default_factory=list)  # (job id, file name)
    failed: list = field(default_factory=list)

    @property
    def total(self):
        return len(self.completed) + len(self.failed)


def _cutoffs(now):
    completed = now - timedelta(hours=settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS)
    failed = now - timedelta(days=settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS)
    return completed, failed


# What a purge reads of a job: enough to tell its input file and guard the update.
_PURGE_FIELDS = ("pk", "selfie", "garment_image", "model_name", "status", "owner_id", "finished_at")


def expired_selfie_jobs(now=None):
    """Finished jobs that still hold their input (selfie or garment image) past its retention."""
    completed_cutoff, failed_cutoff = _cutoffs(now or timezone.now())
    return (
        AvatarJob.objects.filter(~Q(selfie="") | ~Q(garment_image=""))
        .filter(
            Q(status=JobStatus.COMPLETED, finished_at__lte=completed_cutoff)
            | Q(status=JobStatus.FAILED, finished_at__lte=failed_cutoff)
        )
        .only(*_PURGE_FIELDS)
        .order_by("finished_at")
    )


def purge_selfie(job):
    """Forget and delete a finished job's input: an avatar's selfie, a try-on's garment image.
    True if this call removed it.

    The row is updated first, guarded by the status and file name the caller saw: a failed job
    its owner has just retried (no longer ``failed``) keeps its input.
    """
    field = input_field(job)
    name = getattr(job, field).name
    if not name or job.status not in (JobStatus.COMPLETED, JobStatus.FAILED):
        return False
    fields = {field: ""}
    if job.status == JobStatus.FAILED:
        message = failed_garment_purged_message if job.is_tryon else failed_selfie_purged_message
        fields["error_message"] = message(settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS)
    matched = AvatarJob.objects.filter(pk=job.pk, status=job.status, **{field: name}).update(
        **fields
    )
    if not matched:
        return False
    delete_files([name])
    logger.info("job %s: %s deleted (%s job)", job.pk, field, job.status)
    return True


def purge_expired_files(now=None, *, dry_run=False):
    """Delete every selfie and garment image past its retention. Returns a ``PurgeReport``.

    First, a HEIC kept as received by a job that ended before its submit step ran is normalised:
    a failed job keeps its selfie for Retry, but never with the phone's metadata."""
    if not dry_run and (left_behind := received_selfies.normalise_left_behind()):
        logger.info("retention: %s HEIC selfie(s) as received normalised", left_behind)
    report = PurgeReport()
    for job in expired_selfie_jobs(now).iterator():
        name = getattr(job, input_field(job)).name
        if name and (dry_run or purge_selfie(job)):
            target = report.completed if job.status == JobStatus.COMPLETED else report.failed
            target.append((job.pk, name))
    return report


@shared_task(name="avatars.purge_expired_files", ignore_result=True)
def purge_expired_files_task():
    report = purge_expired_files()
    if report.total:
        logger.info(
            "retention: %s selfie(s) of completed and %s of failed avatars deleted",
            len(report.completed),
            len(report.failed),
        )
    return report.total


@shared_task(name="avatars.purge_completed_selfie", ignore_result=True)
def purge_completed_selfie_task(job_id):
    job = AvatarJob.objects.filter(pk=job_id).only(*_PURGE_FIELDS).first()
    if job is not None and job.status == JobStatus.COMPLETED:
        purge_selfie(job)


def on_job_finished(sender, job_id, status, **kwargs):
    """``job_finished`` receiver: a completed job's selfie or garment image goes at once
    (retention 0).

    Sent after the completion committed, in the worker that finished the job; the deletion itself
    runs as a task (storage may be remote). If the task is lost, the hourly purge deletes it.
    """
    if status != JobStatus.COMPLETED or settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS > 0:
        return
    try:
        purge_completed_selfie_task.delay(str(job_id))
    except Exception as error:  # noqa: BLE001 - the hourly purge is the fallback
        logger.warning("job %s: could not schedule the selfie deletion: %r", job_id, error)
