"""Reads: which jobs a user may see, and the shapes the pages need, in a constant number of
queries. Owners see their own jobs; staff see everyone's; anyone else gets 404."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from .models import ACTIVE_STATUSES, AvatarJob, AvatarResult, JobStatus, ShareLink

GALLERY_FILTERS = {
    "all": ("All", None),
    "active": ("In progress", ACTIVE_STATUSES),
    "completed": ("Completed", (JobStatus.COMPLETED,)),
    "failed": ("Failed", (JobStatus.FAILED,)),
}


def visible_jobs(user):
    jobs = AvatarJob.objects.avatars()
    return jobs if user.is_staff else jobs.filter(owner=user)


def get_visible_job(user, job_id):
    """The job if the user may see it, else 404 (never 403: it does not exist for them)."""
    try:
        return visible_jobs(user).get(pk=job_id)
    except (AvatarJob.DoesNotExist, ValueError):
        raise Http404("No such avatar.") from None


def get_owned_job(user, job_id):
    """The job if the user owns it: only owners change their avatars from the site."""
    try:
        return AvatarJob.objects.avatars().get(pk=job_id, owner=user)
    except (AvatarJob.DoesNotExist, ValueError):
        raise Http404("No such avatar.") from None


def gallery_jobs(user, filter_name):
    """The user's own jobs, newest first, with their results in one extra query."""
    _label, statuses = GALLERY_FILTERS.get(filter_name, GALLERY_FILTERS["all"])
    jobs = AvatarJob.objects.avatars().filter(owner=user).order_by("-created_at")
    if statuses:
        jobs = jobs.filter(status__in=statuses)
    results = AvatarResult.objects.order_by("index")
    return jobs.prefetch_related(Prefetch("results", queryset=results))


def active_share_link(token):
    """The share link for ``token`` if it still works, with its job and results, else 404."""
    link = (
        ShareLink.objects.select_related("job")
        .prefetch_related("job__results")
        .filter(token=token)
        .first()
    )
    if link is None or not link.is_active(timezone.now()):
        raise Http404("This link has expired or was turned off.")
    return link


def active_share_links(job):
    return job.share_links.filter(revoked_at=None, expires_at__gt=timezone.now())
