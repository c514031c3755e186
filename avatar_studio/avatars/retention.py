"""How long files are kept, and removing them: selfies after their retention, every file of a
deleted job, result or user.

Selfies are the personal data here. A completed avatar no longer needs its selfie, so it is
deleted once the completion has committed (``AVATAR_COMPLETED_SELFIE_RETENTION_HOURS``, default 0:
at once). A failed avatar keeps its selfie so that its owner can press Retry, for
``AVATAR_FAILED_SELFIE_RETENTION_DAYS`` (default 7); then the selfie is deleted and the job's
message says why it can no longer be retried. ``purge_expired_files`` (a management command, and
a beat task every hour) is the sweep that enforces both; the ``job_finished`` receiver only makes
the common case happen at once.

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


def expired_selfie_jobs(now=None):
    """Finished jobs that still hold a selfie past its retention."""
    completed_cutoff, failed_cutoff = _cutoffs(now or timezone.now())
    return (
        AvatarJob.objects.exclude(selfie="")
        .filter(
            Q(status=JobStatus.COMPLETED, finished_at__lte=completed_cutoff)
            | Q(status=JobStatus.FAILED, finished_at__lte=failed_cutoff)
        )
        .only("pk", "selfie", "status", "owner_id", "finished_at")
        .order_by("finished_at")
    )


def purge_selfie(job):
    """Forget and delete a finished job's selfie. True if this call removed it.

    The row is updated first, guarded by the status and file name the caller saw: a failed job
    its owner has just retried (no longer ``failed``) keeps its selfie.
    """
    name = job.selfie.name
    if not name or job.status not in (JobStatus.COMPLETED, JobStatus.FAILED):
        return False
    fields = {"selfie": ""}
    if job.status == JobStatus.FAILED:
        fields["error_message"] = failed_selfie_purged_message(
            settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS
        )
    matched = AvatarJob.objects.filter(pk=job.pk, status=job.status, selfie=name).update(**fields)
    if not matched:
        return False
    delete_files([name])
    logger.info("job %s: selfie deleted (%s job)", job.pk, job.status)
    return True


def purge_expired_files(now=None, *, dry_run=False):
    """Delete every selfie past its retention. Returns a ``PurgeReport``.

    First, a HEIC kept as received by a job that ended before its submit step ran is normalised:
    a failed job keeps its selfie for Retry, but never with the phone's metadata."""
    if not dry_run and (left_behind := received_selfies.normalise_left_behind()):
        logger.info("retention: %s HEIC selfie(s) as received normalised", left_behind)
    report = PurgeReport()
    for job in expired_selfie_jobs(now).iterator():
        if dry_run or purge_selfie(job):
            target = report.completed if job.status == JobStatus.COMPLETED else report.failed
            target.append((job.pk, job.selfie.name))
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
    job = AvatarJob.objects.filter(pk=job_id).only("pk", "selfie", "status").first()
    if job is not None and job.status == JobStatus.COMPLETED:
        purge_selfie(job)


def on_job_finished(sender, job_id, status, **kwargs):
    """``job_finished`` receiver: a completed avatar's selfie goes at once (retention 0).

    Sent after the completion committed, in the worker that finished the job; the deletion itself
    runs as a task (storage may be remote). If the task is lost, the hourly purge deletes it.
    """
    if status != JobStatus.COMPLETED or settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS > 0:
        return
    try:
        purge_completed_selfie_task.delay(str(job_id))
    except Exception as error:  # noqa: BLE001 - the hourly purge is the fallback
        logger.warning("job %s: could not schedule the selfie deletion: %r", job_id, error)
