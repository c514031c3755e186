"""Writing the ledger: a reservation when a job is sent, its settlement when the job ends.

``reserve`` runs inside the transaction that creates (or restarts) the job, so a job is never
sent without its row, and a refused or failed creation leaves none. ``on_job_ending`` runs inside
the transaction that records the job's end (``avatars.pipeline.signals.job_ending``), so a job
never ends without its row settled: failed gives the reservation back, completed charges what
FASHN reported.
"""

from django.db.models import Case, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from avatar_studio.avatars.models import AvatarJob, JobStatus

from .models import CreditState, CreditUse

# What a row takes from its owner's allowance: a reservation its estimate, a charge what FASHN
# reported (the estimate if it reported nothing), a refund nothing.
ALLOWANCE_COST = Case(
    When(state=CreditState.RESERVED, then=F("estimated")),
    When(state=CreditState.CHARGED, then=Coalesce(F("charged"), F("estimated"))),
    default=Value(0),
)


def reserve(job, credits, *, counted, now=None):
    """Record that ``job`` is being sent and may cost ``credits``."""
    return CreditUse.objects.create(
        owner_id=job.owner_id,
        job_id=job.pk,
        model_name=job.model_name,
        estimated=credits,
        counted=counted,
        created_at=now or timezone.now(),
    )


def counted_between(owner, start, end):
    """Credits ``owner``'s rows created in [start, end) take from the allowance."""
    rows = CreditUse.objects.filter(
        owner=owner, counted=True, created_at__gte=start, created_at__lt=end
    )
    return rows.aggregate(total=Sum(ALLOWANCE_COST, default=0))["total"]


def charged_totals(now, day, week):
    """Credits FASHN reported for jobs that completed in the last ``day`` and ``week``."""
    return CreditUse.objects.filter(
        state=CreditState.CHARGED, settled_at__gte=now - week
    ).aggregate(
        day=Sum("charged", filter=Q(settled_at__gte=now - day), default=0),
        week=Sum("charged", default=0),
    )


def settle(job_id, status, credits_used=None, now=None):
    now = now or timezone.now()
    reserved = list(
        CreditUse.objects.filter(job_id=job_id, state=CreditState.RESERVED).order_by("-created_at")
    )
    if status != JobStatus.COMPLETED:
        # FASHN does not charge failed predictions: the whole reservation comes back.
        CreditUse.objects.filter(pk__in=[row.pk for row in reserved]).update(
            state=CreditState.REFUNDED, charged=0, settled_at=now
        )
        return
    if reserved:
        latest, *stale = reserved
        CreditUse.objects.filter(pk=latest.pk).update(
            state=CreditState.CHARGED, charged=credits_used, settled_at=now
        )
        # Only one reservation of a job is ever open; any other was left by a lost settlement.
        CreditUse.objects.filter(pk__in=[row.pk for row in stale]).update(
            state=CreditState.REFUNDED, charged=0, settled_at=now
        )
        return
    # Nothing reserved (a try-on sent before try-ons counted against the allowance, or a job
    # sent before the ledger existed): the charge is recorded now, for the dashboard.
    job = AvatarJob.objects.filter(pk=job_id).values("owner_id", "model_name").first()
    if job is None:
        return
    CreditUse.objects.create(
        owner_id=job["owner_id"],
        job_id=job_id,
        model_name=job["model_name"],
        estimated=credits_used or 0,
        charged=credits_used,
        state=CreditState.CHARGED,
        counted=False,
        created_at=now,
        settled_at=now,
    )


def on_job_ending(sender, job_id, status, credits_used=None, **kwargs):
    """``avatars.pipeline.signals.job_ending`` receiver."""
    settle(job_id, status, credits_used)
