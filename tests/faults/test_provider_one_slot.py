"""A FASHN account with one slot: a prediction the provider forgot gives that slot back.

This case has a worker of its own, started with FASHN_MAX_IN_FLIGHT=1. With the shared worker's
6 slots (FASHN's default) a slot that is never given back goes unnoticed: the next job simply
takes another one.
"""

from pathlib import Path

import pytest

from avatar_studio.avatars.pipeline.limits import fashn_limits

from ..support.reliability import expect_outcome, make_jobs
from ..support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTION = "Provider answers"


@pytest.fixture
def one_slot(settings, engine, spawn_worker):
    """The account's in-flight slots (the Redis set every worker shares), limited to one.

    After ``engine``: the set's key is named after the FASHN base URL, which it sets."""
    settings.FASHN_MAX_IN_FLIGHT = 1
    worker = spawn_worker(env={"FASHN_MAX_IN_FLIGHT": "1"})
    # The worker's settings read the limit from its environment when it starts.
    environ = Path(f"/proc/{worker.process.pid}/environ").read_bytes().split(b"\0")
    assert b"FASHN_MAX_IN_FLIGHT=1" in environ
    slots = fashn_limits().in_flight
    assert slots.limit == 1
    return slots


def test_an_unknown_prediction_id_ends_the_job_and_frees_its_slot(one_slot, engine, alice, case):
    item = case(
        SECTION,
        "/v1/status answers 404 NotFound (the provider forgot the prediction)",
        "1 job, then 1 more job on a 1-slot account (FASHN_MAX_IN_FLIGHT=1)",
        "the first fails PredictionLost and its slot is released; the second completes",
    )
    engine.add_faults({"on": "status", "http_status": 404, "error": "NotFound"})
    jobs = make_jobs(alice)
    expect_outcome(item, jobs, engine, statuses={"failed PredictionLost": 1}, runs_accepted=1)
    assert engine.stats()["faults_pending"] == []  # the 404 was answered

    # Only taking a slot clears out expired leases, and no job takes one here: a slot that was
    # not given back stays in the set, whatever its lease.
    wait_for(lambda: one_slot.holders() == [], timeout=15, message="the lost job's slot")
    jobs += make_jobs(alice)

    expect_outcome(
        item,
        jobs,
        engine,
        statuses={"failed PredictionLost": 1, "completed": 1},
        runs_accepted=2,
    )
    assert one_slot.holders() == []
