"""Reads: which jobs a user may see. Owners see their own; staff see everything."""

from django.http import Http404

from .models import AvatarJob


def visible_jobs(user):
    jobs = AvatarJob.objects.all()
    return jobs if user.is_staff else jobs.filter(owner=user)


def get_visible_job(user, job_id):
    """The job, or 404 (never 403: another user's job does not exist for you)."""
    try:
        return visible_jobs(user).get(pk=job_id)
    except (AvatarJob.DoesNotExist, ValueError):
        raise Http404("No such avatar.") from None
