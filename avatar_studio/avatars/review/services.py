"""Public display of avatars: the owner offers a completed avatar, staff approve or reject it.

Only approved avatars whose owner still consents may be shown to anyone but their owner (the
public showcase, the store's model gallery): ``selectors.approved_public_avatars()`` is the one
read that such pages use. An owner's own use of an avatar, and the share links they make
themselves, never wait for review.

    private ──owner offers──▶ pending ──staff approve──▶ approved
       ▲                        │  └──staff reject──▶ rejected ◀──staff reject (take down)──┘
       └──owner withdraws (from pending, approved or rejected; at once)───────────────────────┘
                                   staff may approve a rejected avatar after a second look

Like the job state machine (``pipeline.transitions``), each change is a compare-and-swap
``UPDATE ... WHERE review_state IN (...)``: a withdrawal and an approval that cross can never
leave an avatar shown without consent. Each action raises ``refusals.Refused`` when it is not
allowed for the job as read, or when the job moved on meanwhile.
"""

from django.utils import timezone

from ..models import AvatarJob, JobStatus, ReviewState
from ..refusals import (
    ALREADY_APPROVED,
    ALREADY_OFFERED,
    ALREADY_REJECTED,
    CHANGED_MEANWHILE,
    NOT_MADE_YET,
    NOT_OFFERED,
    NOTHING_TO_SHOW,
    REASON_REQUIRED,
    Refused,
)

# The states a decision may start from.
_APPROVABLE = (ReviewState.PENDING, ReviewState.REJECTED)
_REJECTABLE = (ReviewState.PENDING, ReviewState.APPROVED)
_WITHDRAWABLE = (ReviewState.PENDING, ReviewState.APPROVED, ReviewState.REJECTED)


def _require_completed(job):
    if job.status == JobStatus.FAILED:
        raise Refused(NOTHING_TO_SHOW)
    if job.status != JobStatus.COMPLETED:
        raise Refused(NOT_MADE_YET)


def _apply(job, matched, fields):
    """After a compare-and-swap: refuse if it missed, else bring the caller's copy up to date."""
    if not matched:
        raise Refused(CHANGED_MEANWHILE)
    for name, value in fields.items():
        setattr(job, name, value)


# --- The owner --------------------------------------------------------------------------------


def offer_for_display(job):
    """private → pending: the owner consents to public display, subject to staff review."""
    _require_completed(job)
    if job.review_state != ReviewState.PRIVATE:
        raise Refused(ALREADY_OFFERED)
    now = timezone.now()
    fields = {
        "review_state": ReviewState.PENDING,
        "public_consent_at": now,
        "review_reason": "",
        "reviewed_at": None,
        "reviewed_by": None,
        "updated_at": now,
    }
    candidates = AvatarJob.objects.avatars().filter(status=JobStatus.COMPLETED)
    matched = candidates.filter(pk=job.pk, review_state=ReviewState.PRIVATE).update(**fields)
    _apply(job, matched, fields)


def withdraw_from_display(job):
    """Back to private, at once, whatever staff decided."""
    if job.review_state not in _WITHDRAWABLE:
        raise Refused(NOT_OFFERED)
    fields = {
        "review_state": ReviewState.PRIVATE,
        "public_consent_at": None,
        "review_reason": "",
        "updated_at": timezone.now(),
    }
    matched = (
        AvatarJob.objects.avatars()
        .filter(pk=job.pk, review_state__in=_WITHDRAWABLE)
        .update(**fields)
    )
    if not matched:
        # Withdrawn meanwhile by another request: what the owner wanted holds.
        raise Refused(NOT_OFFERED)
    _apply(job, matched, fields)


# --- Staff ------------------------------------------------------------------------------------


def approve(job, *, reviewer):
    """pending or rejected → approved. The owner's consent must still be there."""
    _require_completed(job)
    if job.review_state == ReviewState.APPROVED:
        raise Refused(ALREADY_APPROVED)
    if job.review_state not in _APPROVABLE or job.public_consent_at is None:
        raise Refused(NOT_OFFERED)
    now = timezone.now()
    fields = {
        "review_state": ReviewState.APPROVED,
        "review_reason": "",
        "reviewed_at": now,
        "reviewed_by": reviewer,
        "updated_at": now,
    }
    matched = (
        AvatarJob.objects.avatars()
        .filter(
            pk=job.pk,
            status=JobStatus.COMPLETED,
            review_state__in=_APPROVABLE,
            public_consent_at__isnull=False,
        )
        .update(**fields)
    )
    _apply(job, matched, fields)


def reject(job, *, reviewer, reason):
    """pending or approved → rejected (an approved one is taken down), with the reason its owner
    will read."""
    reason = reason.strip()
    if not reason:
        raise Refused(REASON_REQUIRED)
    if job.review_state == ReviewState.REJECTED:
        raise Refused(ALREADY_REJECTED)
    if job.review_state not in _REJECTABLE:
        raise Refused(NOT_OFFERED)
    now = timezone.now()
    fields = {
        "review_state": ReviewState.REJECTED,
        "review_reason": reason,
        "reviewed_at": now,
        "reviewed_by": reviewer,
        "updated_at": now,
    }
    matched = (
        AvatarJob.objects.avatars().filter(pk=job.pk, review_state__in=_REJECTABLE).update(**fields)
    )
    _apply(job, matched, fields)
