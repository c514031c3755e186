"""What /metrics says, against rows and Redis state the tests make: gauges read from the
database and Redis, counters and histograms written by the pipeline's transitions."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionAttempt
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.pipeline.limits import fashn_limits
from avatar_studio.core.localredis import free_port
from avatar_studio.ops import counters

from ..support.jobs import make_finished_job, make_job
from .scraping import TOKEN, buckets, counted, parse, series, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def scrape():
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        return parse(response.content.decode())

    return scrape


def test_jobs_in_each_active_status_and_jobs_waiting_for_a_slot_are_the_rows_now(
    scrape, alice, bob
):
    make_job(alice)
    waiting = make_job(bob)
    AvatarJob.objects.filter(pk=waiting.pk).update(waiting_for_slot=True)
    make_finished_job(alice)
    make_finished_job(bob, status="failed")
    AvatarJob.objects.filter(pk=make_job(bob).pk).update(status=JobStatus.PROCESSING)

    samples = scrape()

    jobs = series(samples, "avatar_studio_jobs")
    # Finished jobs are not a gauge: the counters count them as they end.
    assert {dict(labels)["status"]: count for labels, count in jobs.items()} == {
        "queued": 2,
        "submitting": 0,
        "submitted": 0,
        "in_queue": 0,
        "processing": 1,
    }
    assert value(samples, "avatar_studio_jobs_waiting_for_slot") == 1
    assert value(samples, "avatar_studio_oldest_active_job_age_seconds") > 0


def test_credits_used_are_counted_as_jobs_complete_and_stay_when_a_job_is_deleted(
    scrape, alice, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_finished_job(alice)  # FASHN reported 1 credit
        deleted = make_finished_job(bob)
        make_finished_job(bob, status="failed")  # failed predictions cost nothing
        make_job(alice)  # not finished: nothing yet

    before = scrape()
    services.delete_avatar(deleted)
    after = scrape()

    assert value(before, "avatar_studio_fashn_credits_used_total", model="face-to-model") == 2
    assert value(after, "avatar_studio_fashn_credits_used_total", model="face-to-model") == 2


def _submitting(job, *, created_ago=None):
    fields = {"status": JobStatus.SUBMITTING}
    if created_ago is not None:
        fields["created_at"] = timezone.now() - created_ago
    AvatarJob.objects.filter(pk=job.pk).update(**fields)
    return AvatarJob.objects.get(pk=job.pk)


def _ran_for(attempt, seconds):
    submitted = timezone.now() - timedelta(seconds=seconds)
    PredictionAttempt.objects.filter(pk=attempt.pk).update(submitted_at=submitted)
    attempt.refresh_from_db()
    return attempt


def test_before_anything_happens_every_known_series_is_answered_as_zero(scrape):
    # So that Prometheus sees the first count of each as an increase from 0.
    samples = scrape()

    for model in ("face-to-model", "tryon-v1.6", "tryon-max"):
        assert value(samples, "avatar_studio_fashn_predictions_total", model=model) == 0
        assert value(samples, "avatar_studio_fashn_credits_used_total", model=model) == 0
        assert value(samples, "avatar_studio_queue_wait_seconds_count", model=model) == 0
        assert (
            value(
                samples,
                "avatar_studio_fashn_runtime_errors_total",
                model=model,
                name="PipelineError",
            )
            == 0
        )
    assert value(samples, "avatar_studio_job_failures_total", name="OutOfCredits") == 0
    assert value(samples, "avatar_studio_job_failures_total", name="other") == 0
    assert not counted(samples, "avatar_studio_job_failures_total")


def test_the_transitions_count_predictions_retries_errors_and_times(
    scrape, alice, django_capture_on_commit_callbacks
):
    retried = make_job(alice)
    refused = make_job(alice)
    expired = make_job(alice)
    with django_capture_on_commit_callbacks(execute=True):
        # A first attempt, 7 s after the upload, that FASHN fails with a retryable error after 25 s.
        first = transitions.record_submission(
            _submitting(retried, created_ago=timedelta(seconds=7)), "p-1"
        )
        transitions.record_attempt_failure(
            retried,
            _ran_for(first, 25),
            status="failed",
            error_name="PipelineError",
            error_message="",
        )
        # Its retry completes after 50 s.
        second = transitions.record_submission(_submitting(retried), "p-2")
        transitions.complete_job(
            AvatarJob.objects.get(pk=retried.pk),
            _ran_for(second, 50),
            stored_outputs=[],
            credits_used=1,
        )
        # An error name FASHN never documented: counted as "other", and the job fails with it.
        attempt = transitions.record_submission(
            _submitting(refused, created_ago=timedelta(seconds=700)), "p-3"
        )
        transitions.record_attempt_failure(
            refused,
            _ran_for(attempt, 3),
            status="failed",
            error_name="BrandNewError",
            error_message="",
        )
        transitions.fail_job(expired, "DeadlineExceeded")

    samples = scrape()

    face = "face-to-model"
    assert value(samples, "avatar_studio_fashn_predictions_total", model=face) == 3
    assert value(samples, "avatar_studio_fashn_retries_total", model=face) == 1
    assert value(samples, "avatar_studio_fashn_credits_used_total", model=face) == 1
    assert counted(samples, "avatar_studio_fashn_runtime_errors_total") == {
        (("model", face), ("name", "PipelineError")): 1,
        (("model", face), ("name", "other")): 1,
    }
    assert counted(samples, "avatar_studio_job_failures_total") == {
        (("name", "DeadlineExceeded"),): 1,
        (("name", "other"),): 1,
    }
    # Queue wait: the two first attempts only, 7 s and 700 s after their uploads.
    wait, wait_sum, wait_count = buckets(samples, "avatar_studio_queue_wait_seconds", model=face)
    assert wait_count == 2 and wait["+Inf"] == 2
    assert (wait["5.0"], wait["10.0"], wait["600.0"], wait["1800.0"]) == (0, 1, 1, 2)
    assert 707 <= wait_sum < 720
    done, done_sum, done_count = buckets(
        samples, "avatar_studio_fashn_processing_seconds", model=face, outcome="completed"
    )
    assert (done["45.0"], done["60.0"], done_count) == (0, 1, 1)
    assert 50 <= done_sum < 60
    failed, _failed_sum, failed_count = buckets(
        samples, "avatar_studio_fashn_processing_seconds", model=face, outcome="failed"
    )
    assert (failed["5.0"], failed["20.0"], failed["30.0"], failed_count) == (1, 1, 2, 2)


def test_nothing_is_counted_when_the_transaction_rolls_back(
    scrape, alice, django_capture_on_commit_callbacks
):
    job = make_job(alice)
    with django_capture_on_commit_callbacks(execute=True):
        # An observation recorded, then its transaction undone.
        with pytest.raises(RuntimeError), transaction.atomic():
            counters.job_failed("PipelineError")
            raise RuntimeError("rolled back")
        transitions.fail_job(job, "PipelineError")

    assert counted(scrape(), "avatar_studio_job_failures_total") == {
        (("name", "PipelineError"),): 1
    }


def test_an_observation_on_a_bucket_bound_falls_in_that_bucket(
    scrape, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for seconds in (0, 5, 5.5, 600, 601):
            counters.prediction_completed("tryon-v1.6", seconds)

    found, total, count = buckets(
        scrape(), "avatar_studio_fashn_processing_seconds", model="tryon-v1.6", outcome="completed"
    )

    assert found == {
        "5.0": 2,
        "10.0": 3,
        "15.0": 3,
        "20.0": 3,
        "30.0": 3,
        "45.0": 3,
        "60.0": 3,
        "90.0": 3,
        "120.0": 3,
        "180.0": 3,
        "300.0": 3,
        "600.0": 4,
        "+Inf": 5,
    }
    assert (total, count) == (1211.5, 5)


def test_slots_in_use_are_the_live_leases_in_redis(scrape, settings, redis_url):
    settings.FASHN_MAX_IN_FLIGHT = 4
    slots = fashn_limits().in_flight
    assert slots.acquire("job-a", 60) and slots.acquire("job-b", 60)
    # A lease whose worker died: it ended 10 s ago by Redis's clock and is no longer a slot.
    seconds, micros = slots.client.time()
    slots.client.zadd(slots.key, {"job-of-a-dead-worker": seconds + micros / 1e6 - 10})

    samples = scrape()
    slots.release("job-a")
    after_release = scrape()

    assert value(samples, "avatar_studio_fashn_slots_in_use") == 2
    assert value(samples, "avatar_studio_fashn_slots_limit") == 4
    assert value(after_release, "avatar_studio_fashn_slots_in_use") == 1
    assert (
        slots.client.zcard(slots.key) == 2
    )  # the scrape only reads: the dead lease is still there


def test_without_redis_the_database_figures_are_still_answered(scrape, settings, alice):
    make_job(alice)
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    samples = scrape()

    assert value(samples, "avatar_studio_metrics_redis_up") == 0
    assert value(samples, "avatar_studio_jobs", status="queued") == 1
    assert not series(samples, "avatar_studio_fashn_slots_in_use")


def test_a_pipeline_step_goes_on_when_redis_cannot_take_its_counts(
    settings, alice, django_capture_on_commit_callbacks, caplog
):
    job = make_job(alice)
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    with django_capture_on_commit_callbacks(execute=True):
        assert transitions.fail_job(job, "PipelineError")

    assert AvatarJob.objects.get(pk=job.pk).status == JobStatus.FAILED
    assert "metrics not recorded, Redis unreachable" in caplog.text


def test_a_scrape_costs_the_same_queries_with_many_jobs(scrape, alice, bob):
    make_finished_job(alice)
    with CaptureQueriesContext(connection) as few:
        scrape()
    for owner in (alice, bob) * 10:
        make_finished_job(owner)
        make_finished_job(owner, status="failed")
        make_job(owner)
    with CaptureQueriesContext(connection) as many:
        scrape()

    assert len(many.captured_queries) == len(few.captured_queries) == 3
