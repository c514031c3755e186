"""A worker killed with SIGKILL mid-request: during submit, during a poll, during a download.

The moment is made certain with an engine delay: the worker is inside the request when it dies.
A new worker takes over and beat's sweeper recovers the job once its step's lease has run out.
"""

import pytest

from avatar_studio.avatars.models import PredictionAttempt

from ..support.reliability import expect_outcome, make_jobs
from ..support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTION = "Worker killed (SIGKILL)"


def _kill_when(engine, counter, worker):
    wait_for(
        lambda: engine.stats()[counter] >= 1, timeout=20, message=f"the worker to call {counter}"
    )
    worker.kill()


def test_killed_during_submit(spawn_worker, engine, alice, case):
    item = case(
        SECTION,
        "worker SIGKILLed while its /v1/run waits for an answer (engine delays it 2.5 s)",
        "1 job; a new worker starts; the sweeper finds the job in 'submitting'",
        "fails SubmissionUnconfirmed; the run is never sent again (1 /v1/run call)",
    )
    engine.add_faults({"on": "run", "delay_seconds": 2.5})
    worker = spawn_worker()
    jobs = make_jobs(alice)
    _kill_when(engine, "run_calls", worker)
    spawn_worker()

    outcome = expect_outcome(
        item, jobs, engine, statuses={"failed SubmissionUnconfirmed": 1}, runs_accepted=1
    )
    assert outcome.run_calls == 1
    assert outcome.attempts == 0
    assert engine.stats()["faults_pending"] == []  # the delayed answer was the one cut short


def test_killed_during_poll(spawn_worker, engine, alice, case):
    item = case(
        SECTION,
        "worker SIGKILLed while its /v1/status call waits for an answer (delayed 2.5 s)",
        "1 job; a new worker starts; the sweeper re-issues the poll",
        "completes; 1 /v1/run call, 1 attempt",
    )
    engine.configure(processing_seconds=0.5)
    engine.add_faults({"on": "status", "delay_seconds": 2.5})
    worker = spawn_worker()
    jobs = make_jobs(alice)
    _kill_when(engine, "status_calls", worker)
    spawn_worker()

    outcome = expect_outcome(item, jobs, engine, statuses={"completed": 1}, runs_accepted=1)
    assert outcome.run_calls == 1
    assert outcome.attempts == 1
    assert engine.stats()["faults_pending"] == []  # the delayed answer was the one cut short


def test_killed_during_download(spawn_worker, engine, alice, case):
    item = case(
        SECTION,
        "worker SIGKILLed while downloading the output (the CDN delays it 2.5 s)",
        "1 job; a new worker starts; the sweeper re-issues the poll",
        "completes with its image stored; 1 /v1/run call, 1 attempt",
    )
    engine.add_faults({"on": "output", "delay_seconds": 2.5})
    worker = spawn_worker()
    jobs = make_jobs(alice)
    _kill_when(engine, "output_calls", worker)
    spawn_worker()

    outcome = expect_outcome(item, jobs, engine, statuses={"completed": 1}, runs_accepted=1)
    assert outcome.run_calls == 1
    assert engine.stats()["output_calls"] >= 2
    assert engine.stats()["faults_pending"] == []  # the delayed answer was the one cut short


def test_killed_with_many_jobs_in_flight(spawn_worker, engine, alice, case):
    item = case(
        SECTION,
        "worker SIGKILLed with 4 jobs in flight (predictions take 2 s)",
        "4 jobs; kill once all 4 prediction ids are saved; a new worker starts",
        "all complete; 4 /v1/run calls, 4 attempts",
    )
    engine.configure(processing_seconds=2)
    worker = spawn_worker()
    jobs = make_jobs(alice, 4)
    wait_for(lambda: _saved(jobs) == 4, timeout=20, message="4 prediction ids saved")
    worker.kill()
    spawn_worker()

    outcome = expect_outcome(item, jobs, engine, statuses={"completed": 4}, runs_accepted=4)
    assert outcome.attempts == 4


def _saved(jobs):
    return PredictionAttempt.objects.filter(job__in=jobs).count()
