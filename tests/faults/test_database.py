"""The database briefly unavailable.

With PostgreSQL the worker reaches the database through a loopback TCP proxy that is cut for a
few seconds: open connections drop and new ones are refused, as when PostgreSQL restarts or the
network blips. With SQLite another process holds the write lock for a few seconds, as a long
write transaction would.
"""

import time
from contextlib import contextmanager

import pytest
from django.db import connection

from avatar_studio.avatars.models import PredictionAttempt

from ..support.processes import TcpProxy, sqlite_write_lock
from ..support.reliability import expect_outcome, make_jobs
from ..support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTION = "Database unavailable"
OUTAGE_SECONDS = 3.0


@pytest.fixture
def outage(spawn_worker):
    """A worker whose database can be taken away; ``outage()`` does so for a few seconds."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
        user = db["USER"] or ""
        if db["PASSWORD"]:
            user += f":{db['PASSWORD']}"
        spawn_worker(database_url=f"postgres://{user}@127.0.0.1:{proxy.port}/{db['NAME']}")

        @contextmanager
        def unavailable():
            proxy.cut()
            try:
                yield "PostgreSQL connections cut at a TCP proxy"
            finally:
                proxy.restore()

        yield unavailable
        proxy.close()
    else:
        spawn_worker()

        @contextmanager
        def unavailable():
            with sqlite_write_lock(db["NAME"]):
                yield "SQLite write lock held by another process"

        yield unavailable


def test_database_gone_while_jobs_are_polled(outage, engine, alice, case):
    engine.configure(processing_seconds=2)
    jobs = make_jobs(alice, 3)
    wait_for(lambda: _saved(jobs) == 3, timeout=20, message="3 prediction ids saved")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, {OUTAGE_SECONDS:g} s",
            "3 jobs submitted and being polled (predictions take 2 s)",
            "all complete; 3 /v1/run calls, 3 attempts",
        )
        time.sleep(OUTAGE_SECONDS)

    expect_outcome(item, jobs, engine, statuses={"completed": 3}, runs_accepted=3)


def test_database_gone_while_a_result_is_stored(outage, engine, alice, case):
    engine.add_faults({"on": "output", "delay_seconds": 1.0})
    jobs = make_jobs(alice)
    wait_for(lambda: engine.stats()["output_calls"] >= 1, timeout=20, message="a download")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, {OUTAGE_SECONDS:g} s, from the start of the output download",
            "1 job; its result is downloaded and stored during the outage",
            "completes with its image stored; 1 /v1/run call",
        )
        time.sleep(OUTAGE_SECONDS)

    expect_outcome(item, jobs, engine, statuses={"completed": 1}, runs_accepted=1)


def test_database_gone_right_after_a_run(outage, engine, alice, case):
    engine.add_faults({"on": "run", "delay_seconds": 1.0})
    jobs = make_jobs(alice)
    wait_for(lambda: engine.stats()["run_calls"] >= 1, timeout=20, message="a /v1/run call")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, {OUTAGE_SECONDS:g} s, from the moment /v1/run is sent",
            "1 job; FASHN's answer (the prediction id) arrives during the outage",
            "completes: the id is saved once the database is back; 1 /v1/run call",
        )
        time.sleep(OUTAGE_SECONDS)

    expect_outcome(item, jobs, engine, statuses={"completed": 1}, runs_accepted=1)


def _saved(jobs):
    return PredictionAttempt.objects.filter(job__in=jobs).count()


def test_database_gone_longer_than_the_lease_after_a_run(outage, engine, alice, case):
    if connection.vendor == "postgresql":
        expected = {"failed SubmissionUnconfirmed": 1}
        ends = "fails SubmissionUnconfirmed once the database is back"
    else:
        # SQLite makes both writers wait out the held lock: the worker saving the id and the
        # sweeper failing the job. Which goes first after it is left to chance; either end keeps
        # every promise (one run, never re-sent, nothing lost).
        expected = [{"failed SubmissionUnconfirmed": 1}, {"completed": 1}]
        ends = "fails SubmissionUnconfirmed, or completes if the id's write wins the lock"
    engine.add_faults({"on": "run", "delay_seconds": 1.0})
    jobs = make_jobs(alice)
    wait_for(lambda: engine.stats()["run_calls"] >= 1, timeout=20, message="a /v1/run call")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, 6 s (longer than the 4 s step lease), from the moment /v1/run is sent",
            "1 job; the id cannot be saved before the lease ends",
            f"{ends}; 1 /v1/run call, never re-sent",
        )
        time.sleep(6.0)

    outcome = expect_outcome(item, jobs, engine, statuses=expected, runs_accepted=1)
    assert outcome.run_calls == 1
