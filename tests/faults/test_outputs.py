"""Outputs that cannot be had as they should: 404, a hanging or failing CDN, huge bodies, pages
that are not images, expired base64. No bad file may be stored, no result lost, no prediction
submitted again to get a second copy."""

from pathlib import Path

import pytest

from avatar_studio.avatars.models import AvatarJob, AvatarResult, result_path
from avatar_studio.avatars.pipeline import steps

from ..support.reliability import expect_outcome, make_jobs, settle

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTION = "Outputs"
DONE = {"completed": 1}
UNAVAILABLE = {"failed ResultUnavailable": 1}


@pytest.fixture(autouse=True)
def _worker(shared_worker):
    return shared_worker


def stored_files(job, media_root):
    """The files in the job's own folder of results (where a completed job's images go)."""
    folder = Path(media_root) / result_path(job, "")
    return sorted(path for path in folder.rglob("*") if path.is_file())


def assert_nothing_stored(job, media_root):
    assert not AvatarResult.objects.filter(job_id=job.pk).exists()
    assert stored_files(job, media_root) == []


def assert_every_fault_answered(engine):
    # A queued fault is used up by the request it answers: one left over never happened.
    assert engine.stats()["faults_pending"] == []


def test_an_output_url_that_answers_404(engine, alice, case, media_root):
    item = case(
        SECTION,
        "the output URL answers 404 (deleted at the CDN)",
        "1 job",
        "fails ResultUnavailable; nothing stored; not submitted again (1 /v1/run call)",
    )
    engine.add_faults({"on": "output", "http_status": 404, "error": "NotFound"})
    jobs = make_jobs(alice)

    expect_outcome(item, jobs, engine, statuses=UNAVAILABLE, runs_accepted=1)
    assert_every_fault_answered(engine)
    assert_nothing_stored(jobs[0], media_root)


def test_an_output_url_failing_with_5xx_is_fetched_again(engine, alice, case, media_root):
    item = case(
        SECTION,
        "the output URL answers 503, then 500",
        "1 job",
        "completes with its image stored; 1 /v1/run call",
    )
    engine.add_faults({"on": "output", "http_status": 503}, {"on": "output", "http_status": 500})
    jobs = make_jobs(alice)

    expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1)
    assert engine.stats()["output_calls"] == 3
    assert_every_fault_answered(engine)
    # Where assert_nothing_stored looks is where a result's files really go.
    assert len(stored_files(jobs[0], media_root)) == 2  # the image and its thumbnail


def test_an_output_url_that_hangs_once(engine, alice, case):
    item = case(
        SECTION,
        "the output URL hangs 8 s once (longer than the step's 4 s lease)",
        "1 job",
        "the download gives up within its budget (half the lease) and the next poll fetches it; "
        "completes with its image stored",
    )
    engine.add_faults({"on": "output", "delay_seconds": 8})
    jobs = make_jobs(alice)

    # Look only once the hanging request has ended at the engine too.
    expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1, linger=4.0)
    assert engine.stats()["output_calls"] == 2
    assert_every_fault_answered(engine)


def test_a_late_step_does_not_remove_a_completed_result(engine, alice, case):
    item = case(
        SECTION,
        "a poll step that stalled past its lease stores the same outputs after another run "
        "of it completed the job",
        "1 job completed by the worker; then the stalled step's store runs (in the test process)",
        "the job keeps its image and thumbnail; the late step removes only files nothing uses",
    )
    jobs = make_jobs(alice)
    settle(jobs, engine)
    job = AvatarJob.objects.get(pk=jobs[0].pk)
    attempt = job.attempts.get()
    prediction = steps.fashn_client().status(attempt.prediction_id)

    steps._store_results(job, attempt, prediction, end_seen_at=attempt.end_seen_at)

    expect_outcome(item, jobs, engine, statuses=DONE, runs_accepted=1)
    assert job.results.count() == 1


def test_a_huge_output(engine, alice, case, settings, media_root):
    size = settings.AVATAR_OUTPUT_MAX_BYTES + 1
    item = case(
        SECTION,
        f"the output URL serves {size:,} bytes of junk (1 byte over the limit)",
        "1 job",
        "fails ResultUnavailable, refused from Content-Length before reading; nothing stored",
    )
    engine.add_faults({"on": "output", "huge_bytes": size})
    jobs = make_jobs(alice)

    expect_outcome(item, jobs, engine, statuses=UNAVAILABLE, runs_accepted=1)
    assert_every_fault_answered(engine)
    assert_nothing_stored(jobs[0], media_root)


def test_an_output_that_is_not_an_image(engine, alice, case, media_root):
    item = case(
        SECTION,
        "the output URL serves an HTML error page as image/png",
        "1 job",
        "fails ResultUnavailable; nothing stored",
    )
    engine.add_faults({"on": "output", "not_image": True})
    jobs = make_jobs(alice)

    expect_outcome(item, jobs, engine, statuses=UNAVAILABLE, runs_accepted=1)
    assert_every_fault_answered(engine)
    assert_nothing_stored(jobs[0], media_root)


def test_expired_base64_outputs(engine, alice, case, media_root):
    item = case(
        SECTION,
        "return_base64: the completed status carries data URIs that do not decode (expired)",
        "1 job with return_base64",
        "fails ResultUnavailable; nothing stored; 1 /v1/run call",
    )
    engine.add_faults({"on": "output", "expired": True})
    jobs = make_jobs(alice, return_base64=True, output_format="jpeg")

    expect_outcome(item, jobs, engine, statuses=UNAVAILABLE, runs_accepted=1)
    assert_every_fault_answered(engine)
    assert_nothing_stored(jobs[0], media_root)
