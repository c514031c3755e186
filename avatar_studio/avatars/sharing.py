"""Share links: an owner's public link to one completed avatar, until it expires or is revoked.

A link shows the avatar's images only, never its selfie or settings.
"""

from datetime import timedelta

from django.http import Http404
from django.utils import timezone

from .models import JobStatus, ShareLink
from .refusals import NOT_MADE_YET, NOTHING_TO_SHOW, Refused


def create_share_link(job, *, days):
    """A public link to a completed avatar, valid for ``days``."""
    if job.status == JobStatus.FAILED:
        raise Refused(NOTHING_TO_SHOW)
    if job.status != JobStatus.COMPLETED:
        raise Refused(NOT_MADE_YET)
    return ShareLink.objects.create(job=job, expires_at=timezone.now() + timedelta(days=days))


def revoke_share_link(link):
    """Stop a share link working, at once. False if it was already revoked."""
    return bool(
        ShareLink.objects.filter(pk=link.pk, revoked_at=None).update(revoked_at=timezone.now())
    )


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
    return working_share_links().filter(job=job)


def working_share_links():
    """Every share link that works now: not revoked, not expired."""
    return ShareLink.objects.filter(revoked_at=None, expires_at__gt=timezone.now())
