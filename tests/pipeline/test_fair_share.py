"""A fair share of the FASHN slots: try-ons first, then the owner with the fewest jobs in flight
(taking turns), then the oldest job; and a job out of turn never takes a freed slot."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avatar_studio.avatars import services
from avatar_studio.avatars.models import (
    PREDICTING_STATUSES,
    TRYON_MODELS,
    AvatarJob,
    JobStatus,
    PredictionAttempt,
)
from avatar_studio.avatars.pipeline import fair_share, steps
from avatar_studio.avatars.pipeline.limits import fashn_limits

from ..support.faces import flat_image
from ..support.jobs import make_finished_job, make_job, wait_until_finished


def _waiting(job):
    AvatarJob.objects.filter(pk=job.pk).update(waiting_for_slot=True)
    return job


def _in_flight(job):
    """The job holds a slot: submitted, with its attempt (its owner's last /v1/run)."""
    AvatarJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PROCESSING, waiting_for_slot=False, submitted_at=timezone.now()
    )
    PredictionAttempt.objects.create(
        job=job, number=1, prediction_id=f"pred-{job.pk}", submitted_at=timezone.now()
    )


def _fair_orders(queries):
    """The fair order worked out within ``queries``: its first query, each waiting owner's
    oldest job."""
    return [
        q for q in queries.captured_queries if 'MIN("avatars_avatarjob"."created_at")' in q["sql"]
    ]


def _take_turns(count):
    """Hand ``count`` freed slots out in the fair order, as the pipeline would; the jobs woken."""
    woken = []
    for _ in range(count):
        job = fair_share.next_job_waiting_for_slot()
        _in_flight(job)
        woken.append(job.pk)
    return woken


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-password-1")


@pytest.fixture
def queue(db, alice, bob, carol):
    """Alice: one job in flight and five waiting; Bob: one waiting, queued after all of hers;
    Carol's avatar tried on by a shopper, queued last."""
    _in_flight(make_job(alice, seed=0))
    alices = [_waiting(make_job(alice, seed=seed)) for seed in range(1, 6)]
    bobs = _waiting(make_job(bob))
    avatar = make_finished_job(carol)
    tryon = services.create_tryon(
        owner=carol, model_result=avatar.results.get(), garment_png=flat_image(), category="tops"
    )
    return {"alice": alices, "bob": bobs, "tryon": _waiting(tryon)}


def test_a_tryon_goes_first_then_the_owner_with_no_job_in_flight_then_the_oldest(queue):
    woken = _take_turns(3)

    assert woken == [queue["tryon"].pk, queue["bob"].pk, queue["alice"][0].pk]


def test_owners_with_equal_shares_take_turns_and_each_owner_goes_oldest_first(queue, bob):
    later_bobs = [_waiting(make_job(bob, seed=seed)) for seed in (7, 8)]
    alices = [job.pk for job in queue["alice"]]

    woken = _take_turns(8)[2:]  # after the try-on and Bob's first

    # Alice and Bob each hold one slot now; Alice's last run is the older, so she goes first.
    assert woken == [alices[0], later_bobs[0].pk, alices[1], later_bobs[1].pk, *alices[2:4]]


def test_a_job_out_of_turn_defers_to_the_one_first_in_line(queue, alice):
    new_alice = make_job(alice, seed=9)  # being submitted now: not waiting

    assert not fair_share.has_turn(new_alice)
    assert not fair_share.has_turn(queue["bob"])  # the try-on is before him
    assert fair_share.has_turn(queue["tryon"])
    AvatarJob.objects.filter(pk=queue["tryon"].pk).update(waiting_for_slot=False)  # woken
    assert fair_share.has_turn(queue["bob"])


def test_a_job_has_its_turn_when_none_waits(db, alice):
    _in_flight(make_job(alice, seed=0))

    assert fair_share.has_turn(make_job(alice, seed=1))
    assert fair_share.next_job_waiting_for_slot() is None


def test_a_new_job_out_of_turn_hands_a_free_slot_to_the_one_first_in_line(
    engine, alice, bob, settings
):
    settings.FASHN_MAX_IN_FLIGHT = 1
    slots = fashn_limits().in_flight
    slots.client.delete(slots.key)
    bobs = _waiting(make_job(bob))  # found the one slot taken by Alice's first job
    alices = make_job(alice, seed=1)
    _in_flight(make_job(alice, seed=0))  # ...which has just ended: the slot is free

    steps.submit_job(alices.pk, alices.step_token)  # her periodic recheck, or a new job

    alices, bobs = (AvatarJob.objects.get(pk=job.pk) for job in (alices, bobs))
    assert (alices.status, alices.waiting_for_slot) == (JobStatus.QUEUED, True)
    assert bobs.status == JobStatus.SUBMITTED  # the slot did not idle until his recheck
    assert engine.stats()["run_calls"] == 1
    assert slots.holders() == [str(bobs.pk)]


def test_the_job_a_freed_slot_is_handed_to_is_not_asked_for_its_turn_again(
    engine, alice, bob, settings
):
    settings.FASHN_MAX_IN_FLIGHT = 1
    slots = fashn_limits().in_flight
    slots.client.delete(slots.key)
    bobs = _waiting(make_job(bob))
    alices = make_job(alice, seed=1)
    _in_flight(make_job(alice, seed=0))

    with CaptureQueriesContext(connection) as queries:
        steps.submit_job(alices.pk, alices.step_token)

    assert AvatarJob.objects.get(pk=bobs.pk).status == JobStatus.SUBMITTED
    # Alice's turn, then the choice of Bob: his submit, within the hand-over, skips the query.
    assert len(_fair_orders(queries)) == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_freed_slot_goes_to_the_other_owner_before_the_bulk_owners_queue(
    start_worker, worker_env, engine, alice, bob, settings
):
    engine.configure(processing_seconds=1, max_in_flight=1)
    settings.FASHN_MAX_IN_FLIGHT = 1
    worker_env["FASHN_MAX_IN_FLIGHT"] = "1"
    # All queued before a worker runs: Alice's first takes the slot, the rest wait for it.
    alices = [make_job(alice, seed=seed) for seed in range(4)]
    bobs = make_job(bob)
    start_worker()

    finished = [wait_until_finished(job, timeout=60) for job in [*alices, bobs]]

    assert {job.status for job in finished} == {JobStatus.COMPLETED}
    runs = PredictionAttempt.objects.order_by("submitted_at").values_list("job", "job__owner")
    owners = [owner for _job, owner in runs]
    # Whichever of Alice's was claimed first took the slot (the worker runs steps side by side).
    assert owners == [alice.pk, bob.pk, alice.pk, alice.pk, alice.pk]
    assert len({job for job, _owner in runs}) == 5
    stats = engine.stats()
    # Never a second /v1/run for one job, and the limit held.
    assert stats["run_calls"] == stats["runs_accepted"] == 5
    assert stats["max_in_flight_seen"] <= 1
    assert stats["rejected"].get("ConcurrencyLimitExceeded", 0) == 0


def test_a_job_that_finds_every_slot_taken_waits_without_asking_the_fair_order(
    engine, alice, bob, settings
):
    """Hundreds of waiting jobs recheck now and then: with no slot free, whose turn it is does
    not matter, and the fair order's query is the costly part of a recheck."""
    settings.FASHN_MAX_IN_FLIGHT = 1
    slots = fashn_limits().in_flight
    slots.client.delete(slots.key)
    holder = make_job(alice, seed=0)
    _in_flight(holder)
    assert slots.acquire(holder.pk, 60)  # the one slot is taken
    bobs = make_job(bob)

    with CaptureQueriesContext(connection) as queries:
        steps.submit_job(bobs.pk, bobs.step_token)

    bobs = AvatarJob.objects.get(pk=bobs.pk)
    assert (bobs.status, bobs.waiting_for_slot) == (JobStatus.QUEUED, True)
    assert not _fair_orders(queries)
    assert engine.stats()["run_calls"] == 0
    assert slots.holders() == [str(holder.pk)]


def _plain_fair_order():
    """The fair order as one query with two subqueries per waiting job: what the per-owner
    computation replaced (a hand-over read waiting jobs x the owner's jobs rows)."""
    owners_in_flight = (
        AvatarJob.objects.filter(
            owner=OuterRef("owner"), status__in=(JobStatus.SUBMITTING, *PREDICTING_STATUSES)
        )
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
    bulk = Case(
        When(model_name__in=TRYON_MODELS, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        AvatarJob.objects.filter(status=JobStatus.QUEUED, waiting_for_slot=True)
        .annotate(
            bulk=bulk,
            owner_in_flight=Coalesce(Subquery(owners_in_flight), Value(0)),
            owner_last_run=Subquery(owners_last_run),
        )
        .order_by(
            "bulk", "owner_in_flight", F("owner_last_run").asc(nulls_first=True), "created_at", "pk"
        )
        .first()
    )


@pytest.mark.parametrize("seed", range(3))
def test_the_per_owner_order_hands_slots_out_as_the_plain_query_did(db, django_user_model, seed):
    rng = random.Random(seed)
    start = timezone.now() - timedelta(hours=1)
    owners = [
        django_user_model.objects.create_user(f"owner-{n}", password="owner-password-1")
        for n in range(4)
    ]
    for n in range(16):
        job = make_job(rng.choice(owners), seed=n)
        created = start + timedelta(seconds=n)
        kind = rng.choice(["waiting", "waiting", "tryon", "in flight", "done"])
        if kind == "in flight":
            _in_flight(job)
        elif kind == "done":
            AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.COMPLETED)
            PredictionAttempt.objects.create(
                job=job, number=1, prediction_id=f"done-{n}", submitted_at=created
            )
        else:
            _waiting(job)
        model = "tryon-v1.6" if kind == "tryon" else job.model_name
        AvatarJob.objects.filter(pk=job.pk).update(created_at=created, model_name=model)

    handed = 0
    while (plain := _plain_fair_order()) is not None:
        assert fair_share.next_job_waiting_for_slot() == plain
        _in_flight(plain)
        handed += 1
    assert fair_share.next_job_waiting_for_slot() is None
    assert handed >= 3


def test_the_fair_order_is_worked_out_per_owner_in_four_small_queries(db, alice, bob):
    for seed in range(12):
        _waiting(make_job(alice, seed=seed))
    _in_flight(make_job(alice, seed=99))
    _waiting(make_job(bob))

    with CaptureQueriesContext(connection) as queries:
        first = fair_share.next_job_waiting_for_slot()

    assert first.owner == bob  # he holds no slot, Alice one
    assert len(queries.captured_queries) == 4
