"""Reads: which jobs a user may see, and the shapes the pages need, in a constant number of
queries. Owners see their own jobs; those with the explicit permission to view every job
(``may_view_all_jobs``) see everyone's; anyone else gets 404. Also the reads the pipeline and
public pages need (the current attempt, overdue jobs, approved avatars)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from django.utils import timezone

from . import sharing
from .models import (
    ACTIVE_STATUSES,
    PREDICTING_STATUSES,
    AvatarJob,
    AvatarResult,
    JobStatus,
    ReviewState,
)

GALLERY_FILTERS = {
    "all": ("All", None),
    "active": ("In progress", ACTIVE_STATUSES),
    "completed": ("Completed", (JobStatus.COMPLETED,)),
    "failed": ("Failed", (JobStatus.FAILED,)),
}


VIEW_ALL_JOBS_PERMISSION = "avatars.view_avatarjob"


def may_view_all_jobs(user):
    """True if ``user`` may look at other people's jobs, their selfies and images: the one rule
    every door (avatar pages, the store's try-ons) reaches through this module.

    It takes the explicit permission (the "Reviewers" group holds it; a superuser has all), never
    ``is_staff`` alone: that only opens the admin's door, and a staff account with no permissions
    must see no more than any other user. Inactive users have no permissions.
    """
    return user.has_perm(VIEW_ALL_JOBS_PERMISSION)


def visible_jobs(user):
    jobs = AvatarJob.objects.avatars()
    return jobs if may_view_all_jobs(user) else jobs.filter(owner=user)


def get_visible_job(user, job_id):
    """The job if the user may see it, else 404 (never 403: it does not exist for them)."""
    try:
        return visible_jobs(user).get(pk=job_id)
    except (AvatarJob.DoesNotExist, ValueError):
        raise Http404("No such avatar.") from None


def get_job_for_images(user, job_id):
    """The job whose images ``user`` may see: a visible avatar (``get_visible_job``) or, for
    whoever may view every job, a try-on too (the admin's try-on list). Shoppers reach a try-on's
    picture only through their look (``shop.selectors.visible_look``)."""
    if not may_view_all_jobs(user):
        return get_visible_job(user, job_id)
    try:
        return AvatarJob.objects.get(pk=job_id)
    except (AvatarJob.DoesNotExist, ValueError):
        raise Http404("No such avatar.") from None


def get_owned_job(user, job_id):
    """The job if the user owns it: only owners change their avatars from the site."""
    try:
        return AvatarJob.objects.avatars().get(pk=job_id, owner=user)
    except (AvatarJob.DoesNotExist, ValueError):
        raise Http404("No such avatar.") from None


def gallery_jobs(user, filter_name):
    """The user's own jobs, newest first, with their results in one extra query, and whether
    each has a share link that works now (``has_active_share``), asked in the same query."""
    _label, statuses = GALLERY_FILTERS.get(filter_name, GALLERY_FILTERS["all"])
    active_links = sharing.working_share_links().filter(job=OuterRef("pk"))
    jobs = (
        AvatarJob.objects.avatars()
        .filter(owner=user)
        .annotate(has_active_share=Exists(active_links))
        .order_by("-created_at")
    )
    if statuses:
        jobs = jobs.filter(status__in=statuses)
    results = AvatarResult.objects.order_by("index")
    return jobs.prefetch_related(Prefetch("results", queryset=results))


def job_result(job, index):
    """One stored image of the job, or 404."""
    result = job.results.filter(index=index).first()
    if result is None:
        raise Http404("No such image.")
    return result


# --- The pipeline -------------------------------------------------------------------------------


def current_attempt(job):
    """The job's latest FASHN prediction, or None before its first submission."""
    return job.attempts.order_by("-number").first()


def job_for_webhook(webhook_token):
    """The job whose current submission carries this webhook secret and whose next poll is
    waiting, or None. A finished, re-queued or busy job's secret is found no more than one never
    issued, with the same single query, so the answer tells a prober nothing."""
    waiting = {"status__in": PREDICTING_STATUSES, "step_token__isnull": False}
    return AvatarJob.objects.filter(webhook_token=webhook_token, **waiting).only("pk").first()


def overdue_jobs(now=None):
    """Active jobs whose next step should have started a while ago (lost message, dead worker)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.AVATAR_SWEEP_GRACE_SECONDS)
    return AvatarJob.objects.filter(status__in=ACTIVE_STATUSES, next_action_at__lt=cutoff)


# --- Public display -----------------------------------------------------------------------------


def approved_public_avatars():
    """The avatars that may be shown publicly: approved, owner consenting, completed, owner active.

    Newest approval first, each with its images in one extra query. Every public page (showcase,
    store gallery) reads avatars through this and nothing else.
    """
    results = AvatarResult.objects.order_by("index")
    return (
        AvatarJob.objects.avatars()
        .filter(
            status=JobStatus.COMPLETED,
            review_state=ReviewState.APPROVED,
            public_consent_at__isnull=False,
            owner__is_active=True,
        )
        .order_by("-reviewed_at", "-created_at")
        .prefetch_related(Prefetch("results", queryset=results))
    )


def public_result(result_id):
    """The image of a publicly shown avatar that its public pages show, else 404: 404 too from the
    moment the avatar is withdrawn, rejected or deleted, or its owner deactivated."""
    job = approved_public_avatars().filter(results__pk=result_id).first()
    result = job.avatar_result if job else None
    if result is None or result.pk != result_id:
        raise Http404("No such avatar.")
    return result


def pending_review_count():
    return AvatarJob.objects.avatars().filter(review_state=ReviewState.PENDING).count()
