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

It is worked out per owner, not per job, from the database, so every worker on every host picks
the same job: the owners' terms (jobs in flight, last run) are the same for all of an owner's
jobs, and asked once per waiting job they made a hand-over read (waiting jobs x the owner's jobs)
rows, 150 ms for one owner's 294 waiting jobs. Four small queries instead: the oldest waiting
job of each owner and kind, those owners' jobs in flight, their last runs, and the chosen job.
"""

from django.db.models import Case, Count, IntegerField, Max, Min, Q, Value, When

from ..models import PREDICTING_STATUSES, TRYON_MODELS, AvatarJob, JobStatus, PredictionAttempt

# The jobs that hold (or are about to hold) a slot.
_IN_FLIGHT_STATUSES = (JobStatus.SUBMITTING, *PREDICTING_STATUSES)

_WAITING = Q(status=JobStatus.QUEUED, waiting_for_slot=True)

# 0 for interactive work (a try-on), 1 for bulk work (an avatar).
_BULK = Case(
    When(model_name__in=TRYON_MODELS, then=Value(0)),
    default=Value(1),
    output_field=IntegerField(),
)


def _first_in_fair_order(jobs):
    """The first of ``jobs`` in the fair order, or None when there are none."""
    jobs = jobs.annotate(bulk=_BULK)
    # An owner's jobs of one kind go oldest first, so only each group's oldest can be first.
    heads = list(jobs.order_by().values("owner_id", "bulk").annotate(oldest=Min("created_at")))
    if not heads:
        return None
    owners = {head["owner_id"] for head in heads}
    in_flight = dict(
        AvatarJob.objects.filter(owner_id__in=owners, status__in=_IN_FLIGHT_STATUSES)
        .order_by()
        .values_list("owner_id")
        .annotate(Count("pk"))
    )
    last_run = dict(
        PredictionAttempt.objects.filter(job__owner_id__in=owners)
        .order_by()
        .values_list("job__owner_id")
        .annotate(Max("submitted_at"))
    )

    def order(head):
        owner = head["owner_id"]
        ran = last_run.get(owner)
        # An owner who never ran comes first among equals (None cannot be compared).
        return (head["bulk"], in_flight.get(owner, 0), ran is not None, ran, head["oldest"], owner)

    first = min(heads, key=order)
    return (
        jobs.filter(owner_id=first["owner_id"], bulk=first["bulk"])
        .order_by("created_at", "pk")
        .first()
    )


def next_job_waiting_for_slot():
    """The waiting job a freed slot goes to, or None when no job waits."""
    return _first_in_fair_order(AvatarJob.objects.filter(_WAITING))


def has_turn(job):
    """True unless a job waiting for a slot comes before ``job`` (a job being submitted now).

    A job takes a free slot only in its turn: otherwise a new job, a retry or a waiting job's
    periodic recheck of an owner who already holds slots would take the slot that a freed one
    just handed to the job first in line.
    """
    first = _first_in_fair_order(AvatarJob.objects.filter(_WAITING | Q(pk=job.pk)))
    return first is None or first.pk == job.pk
