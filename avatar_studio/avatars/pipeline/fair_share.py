"""Who gets a FASHN slot next: the one order every worker applies when a slot frees.

The account allows a few predictions in flight, shared by everyone. Handing a freed slot to the
oldest waiting job lets one owner who queues twenty avatars make everyone else wait behind them,
so the order is:

1. Interactive work first: a try-on is asked by a shopper waiting on a product page, the
   embeddable button or a shop's API call (``shop.services`` makes every try-on), while an
   avatar is work its owner does not watch second by second.
2. Then the owner with the fewest jobs in flight (submitting or predicting): an owner with none
   goes before one who already holds slots.
3. Then the owner whose last ``/v1/run`` is longest ago (never: first), so owners with equal
   shares take turns (round robin).
4. Within that, the oldest job first.

It is one query over the waiting jobs (two correlated subqueries per waiting job, on indexed
columns), read from the database, so every worker on every host picks the same job.
"""

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from ..models import PREDICTING_STATUSES, TRYON_MODELS, AvatarJob, JobStatus, PredictionAttempt

# The jobs that hold (or are about to hold) a slot.
_IN_FLIGHT_STATUSES = (JobStatus.SUBMITTING, *PREDICTING_STATUSES)

_WAITING = Q(status=JobStatus.QUEUED, waiting_for_slot=True)


def _in_fair_order(jobs):
    owners_in_flight = (
        AvatarJob.objects.filter(owner=OuterRef("owner"), status__in=_IN_FLIGHT_STATUSES)
        .order_by()
        .values("owner")
        .annotate(count=Count("pk"))
        .values("count")
    )
    owners_last_run = (
        PredictionAttempt.objects.filter(job__owner=OuterRef("owner"))
        .order_by("-submitted_at")
        .values("submitted_at")[:1]
    )
    return jobs.annotate(
        bulk=Case(
            When(model_name__in=TRYON_MODELS, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        owner_in_flight=Coalesce(Subquery(owners_in_flight), Value(0)),
        owner_last_run=Subquery(owners_last_run),
    ).order_by(
        "bulk",
        "owner_in_flight",
        F("owner_last_run").asc(nulls_first=True),
        "created_at",
        "pk",
    )


def next_job_waiting_for_slot():
    """The waiting job a freed slot goes to, or None when no job waits."""
    return _in_fair_order(AvatarJob.objects.filter(_WAITING)).first()


def has_turn(job):
    """True unless a job waiting for a slot comes before ``job`` (a job being submitted now).

    A job takes a free slot only in its turn: otherwise a new job, a retry or a waiting job's
    periodic recheck of an owner who already holds slots would take the slot that a freed one
    just handed to the job first in line.
    """
    first = _in_fair_order(AvatarJob.objects.filter(_WAITING | Q(pk=job.pk))).values("pk").first()
    return first is None or first["pk"] == job.pk
