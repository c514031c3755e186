"""The provider misbehaving: 5xx bursts, 429 of each kind, timeouts, bad JSON, lost predictions.

One worker serves every case here. Each case queues engine faults, runs a job (or a few) and
ends with ``expect_outcome``: every job terminal within its deadline, no job submitted twice,
every completed job's files stored and readable.
"""

import pytest
import requests

from ..support.reliability import expect_outcome, make_jobs

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTION = "Provider answers"
DONE = {"completed": 1}


def assert_every_fault_answered(engine):
    # A queued fault is used up by the request it answers: one left over never happened.
    assert engine.stats()["faults_pending"] == []


@pytest.fixture(autouse=True)
def _worker(shared_worker):
    return shared_worker


@pytest.mark.parametrize("http_status", [500, 502, 503])
def test_status_calls_failing_in_a_burst_are_polled_again(engine, alice, case, http_status):
    item = case(
        SECTION,
        f"/v1/status answers {http_status}, 4 times in a row",
        "2 jobs; the first 4 status calls fail",
        "both complete; one prediction each",
    )
    engine.configure(processing_seconds=0.5)
    engine.add_faults({"on": "status", "http_status": http_status, "times": 4})
    jobs = make_jobs(alice, 2)

    expect_outcome(item, jobs, engine, statuses={"completed": 2}, runs_accepted=2)
    assert sum(engine.stats()["rejected"].values()) >= 4
    assert_every_fault_answered(engine)


def test_status_calls_failing_with_every_5xx_in_turn(engine, alice, case):
    item = case(
        SECTION,
        "/v1/status answers 500, 502, 503, 500, 502, 503",
        "1 job, 6 failing status calls in a row",
        "completes; one prediction",
    )
    engine.add_faults(*[{"on": "status", "http_status": status} for status in (500, 502, 503) * 2])
    jobs = make_jobs(alice)

    expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1)
    assert engine.stats()["status_calls"] >= 7
    assert_every_fault_answered(engine)


@pytest.mark.parametrize("http_status", [500, 503])
def test_a_run_refused_with_a_5xx_is_sent_again(engine, alice, case, http_status):
    item = case(
        SECTION,
        f"/v1/run answers {http_status}, 3 times in a row (no prediction made)",
        "1 job",
        "completes after 4 /v1/run calls; 1 prediction",
    )
    engine.add_faults({"on": "run", "http_status": http_status, "times": 3})
    jobs = make_jobs(alice)

    outcome = expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1)
    assert outcome.run_calls == 4
    assert_every_fault_answered(engine)


def test_a_run_answered_502_is_never_sent_again(engine, alice, case):
    item = case(
        SECTION,
        "/v1/run answers 502 (a gateway that may have forwarded it)",
        "1 job",
        "fails SubmissionUnconfirmed after 1 /v1/run call: never re-sent",
    )
    engine.add_faults({"on": "run", "http_status": 502})
    jobs = make_jobs(alice)

    outcome = expect_outcome(
        item, jobs, engine, statuses={"failed SubmissionUnconfirmed": 1}, runs_accepted=0
    )
    assert outcome.run_calls == 1
    assert_every_fault_answered(engine)


RATE_LIMITS = [
    ("run", "RateLimitExceeded", 1),
    ("run", "RateLimitExceeded", None),
    ("run", "ConcurrencyLimitExceeded", 1),
    ("run", "ConcurrencyLimitExceeded", None),
    ("status", "RateLimitExceeded", 1),
    ("status", "RateLimitExceeded", None),
]


@pytest.mark.parametrize(("on", "error", "retry_after"), RATE_LIMITS)
def test_429_is_a_signal_to_wait(engine, alice, case, on, error, retry_after):
    said = f"Retry-After: {retry_after}" if retry_after else "no Retry-After"
    wait = "at least Retry-After" if retry_after else "its own AVATAR_TRANSIENT_RETRY_SECONDS"
    item = case(
        SECTION,
        f"/v1/{on} answers 429 {error}, {said}, twice",
        "1 job",
        f"completes; waits {wait} between tries; 1 prediction",
    )
    fault = {"on": on, "http_status": 429, "error": error, "times": 2, "retry_after": retry_after}
    engine.add_faults(fault)
    jobs = make_jobs(alice)

    outcome = expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1)
    assert engine.stats()["rejected"][error] == 2
    assert_every_fault_answered(engine)
    if retry_after:
        # Two waits of Retry-After, less the 20 % jitter.
        assert outcome.seconds_to_terminal >= 2 * retry_after * 0.8
    if on == "run":
        assert outcome.run_calls == 3


def test_a_429_without_retry_after_really_has_no_header(engine):
    fault = '{"on": "run", "http_status": 429, "error": "RateLimitExceeded", "retry_after": null}'
    response = requests.post(
        f"{engine.url}/v1/run",
        headers={"Authorization": f"Bearer {engine.api_key}", "X-Engine-Fault": fault},
        json={},
        timeout=5,
    )
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_a_status_call_that_times_out_is_made_again(engine, alice, case):
    item = case(
        SECTION,
        "/v1/status answers after the client's read timeout (4 s > 3 s)",
        "1 job",
        "completes; 1 prediction",
    )
    engine.add_faults({"on": "status", "delay_seconds": 4})
    jobs = make_jobs(alice)

    expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1)
    assert_every_fault_answered(engine)
    assert engine.stats()["status_calls"] >= 2  # the one that timed out, and one more


def test_a_run_that_times_out_is_never_sent_again(engine, alice, case):
    item = case(
        SECTION,
        "/v1/run answers after the client's read timeout (4 s > 3 s)",
        "1 job; the engine made the prediction",
        "fails SubmissionUnconfirmed; 1 /v1/run call, never re-sent",
    )
    engine.add_faults({"on": "run", "delay_seconds": 4})
    jobs = make_jobs(alice)

    outcome = expect_outcome(
        item, jobs, engine, statuses={"failed SubmissionUnconfirmed": 1}, runs_accepted=1
    )
    assert outcome.run_calls == 1
    assert_every_fault_answered(engine)


def test_malformed_status_answers_are_polled_again(engine, alice, case):
    item = case(
        SECTION,
        "/v1/status answers 200 with an HTML body, 3 times",
        "1 job",
        "completes; 1 prediction",
    )
    engine.add_faults({"on": "status", "malformed": True, "times": 3})
    jobs = make_jobs(alice)

    expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1)
    assert_every_fault_answered(engine)
    assert engine.stats()["status_calls"] >= 4  # 3 malformed, then the one that read completed


def test_a_malformed_run_answer_is_never_sent_again(engine, alice, case):
    item = case(
        SECTION,
        "/v1/run answers 200 with a truncated JSON body (the prediction exists)",
        "1 job",
        "fails SubmissionUnconfirmed; 1 /v1/run call, never re-sent",
    )
    engine.add_faults({"on": "run", "malformed": True})
    jobs = make_jobs(alice)

    outcome = expect_outcome(
        item, jobs, engine, statuses={"failed SubmissionUnconfirmed": 1}, runs_accepted=1
    )
    assert outcome.run_calls == 1
    assert_every_fault_answered(engine)


def test_a_burst_of_retryable_runtime_errors(engine, alice, case):
    item = case(
        SECTION,
        "predictions fail with PipelineError, then ThirdPartyError",
        "1 job",
        "completes on its 3rd attempt; 3 predictions, 3 attempts",
    )
    engine.add_faults(
        {"on": "prediction", "error_name": "PipelineError"},
        {"on": "prediction", "error_name": "ThirdPartyError"},
    )
    jobs = make_jobs(alice)

    outcome = expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=3)
    assert outcome.attempts == 3
    assert_every_fault_answered(engine)
