"""Public display of avatars: the owner offers a completed avatar, staff approve or reject it.

Only approved avatars whose owner still consents may be shown to anyone but their owner (the
public showcase, the store's model gallery): ``approved_public_avatars()`` is the one read that
such pages use. An owner's own use of an avatar, and the share links they make themselves, never
wait for review.

    private ──owner offers──▶ pending ──staff approve──▶ approved
       ▲                        │  └──staff reject──▶ rejected ◀──staff reject (take down)──┘
       └──owner withdraws (from pending, approved or rejected; at once)───────────────────────┘
                                   staff may approve a rejected avatar after a second look

Like the job state machine in ``services``, each change is a compare-and-swap ``UPDATE ... WHERE
review_state IN (...)``: a withdrawal and an approval that cross can never leave an avatar shown
without consent. Each ``cannot_*`` function says, in words for staff or the owner, why a change
is not allowed for a job as read; the change itself returns False if the job moved on meanwhile.
"""

from django.db.models import Prefetch
from django.utils import timezone

from .models import AvatarJob, AvatarResult, JobStatus, ReviewState

# Shown (and logged) when a job changed between reading it and acting on it.
CHANGED_MEANWHILE = "it changed while you were acting on it; reload and look again"

# The states a staff decision may start from.
_APPROVABLE = (ReviewState.PENDING, ReviewState.REJECTED)
_REJECTABLE = (ReviewState.PENDING, ReviewState.APPROVED)
_WITHDRAWABLE = (ReviewState.PENDING, ReviewState.APPROVED, ReviewState.REJECTED)


def _not_completed(job):
    if job.status == JobStatus.FAILED:
        return "it is a failed job, with no avatar to show"
    if job.status != JobStatus.COMPLETED:
        return "it is still being made"
    return ""


# --- The owner --------------------------------------------------------------------------------


def cannot_offer(job):
    """Why the owner cannot offer this avatar for public display, or "" if they can."""
    if reason := _not_completed(job):
        return reason
    if job.review_state != ReviewState.PRIVATE:
        return "it is already offered"
    return ""


def offer_for_display(job):
    """private → pending: the owner consents to public display, subject to staff review."""
    now = timezone.now()
    matched = (
        AvatarJob.objects.avatars()
        .filter(pk=job.pk, status=JobStatus.COMPLETED, review_state=ReviewState.PRIVATE)
        .update(
            review_state=ReviewState.PENDING,
            public_consent_at=now,
            review_reason="",
            reviewed_at=None,
            reviewed_by=None,
            updated_at=now,
        )
    )
    return bool(matched)


def withdraw_from_display(job):
    """Back to private, at once, whatever staff decided. False if it was not offered."""
    matched = (
        AvatarJob.objects.avatars()
        .filter(pk=job.pk, review_state__in=_WITHDRAWABLE)
        .update(
            review_state=ReviewState.PRIVATE,
            public_consent_at=None,
            review_reason="",
            updated_at=timezone.now(),
        )
    )
    return bool(matched)


# --- Staff ------------------------------------------------------------------------------------


def cannot_approve(job):
    """Why staff cannot approve this avatar, or "" if they can."""
    if reason := _not_completed(job):
        return f"cannot approve: {reason}"
    if job.review_state == ReviewState.APPROVED:
        return "already approved"
    if job.review_state not in _APPROVABLE or job.public_consent_at is None:
        return "cannot approve: its owner has not offered it for public display"
    return ""


def approve(job, *, reviewer):
    """pending or rejected → approved. The owner's consent must still be there."""
    now = timezone.now()
    matched = (
        AvatarJob.objects.avatars()
        .filter(
            pk=job.pk,
            status=JobStatus.COMPLETED,
            review_state__in=_APPROVABLE,
            public_consent_at__isnull=False,
        )
        .update(
            review_state=ReviewState.APPROVED,
            review_reason="",
            reviewed_at=now,
            reviewed_by=reviewer,
            updated_at=now,
        )
    )
    return bool(matched)


def cannot_reject(job):
    """Why staff cannot reject this avatar, or "" if they can (pending, or approved: take down)."""
    if job.review_state == ReviewState.REJECTED:
        return "already rejected"
    if job.review_state not in _REJECTABLE:
        return "cannot reject: its owner has not offered it for public display"
    return ""


def reject(job, *, reviewer, reason):
    """pending or approved → rejected, with the reason its owner will read."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a rejection needs a reason for the owner")
    now = timezone.now()
    matched = (
        AvatarJob.objects.avatars()
        .filter(pk=job.pk, review_state__in=_REJECTABLE)
        .update(
            review_state=ReviewState.REJECTED,
            review_reason=reason,
            reviewed_at=now,
            reviewed_by=reviewer,
            updated_at=now,
        )
    )
    return bool(matched)


# --- Reads ------------------------------------------------------------------------------------


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


def pending_review_count():
    return AvatarJob.objects.avatars().filter(review_state=ReviewState.PENDING).count()
