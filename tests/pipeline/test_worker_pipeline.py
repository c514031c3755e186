"""The pipeline end to end: a real Celery worker on real Redis, the offline engine over HTTP."""

import pytest
from django.utils import timezone

from avatar_studio import celery_app
from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.avatars.pipeline import steps

from ..support.jobs import make_job, wait_until_finished
from ..support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_selfie_becomes_a_stored_avatar(start_worker, engine, alice):
    start_worker()
    job = make_job(alice, aspect_ratio="4:5", output_format="png")

    job = wait_until_finished(job)

    assert job.status == JobStatus.COMPLETED
    assert job.error_name == ""
    [attempt] = job.attempts.all()
    assert attempt.status == "completed"
    # FASHN's price for one balanced 1k image, the engine's mode when none is sent.
    assert attempt.credits_used == 2
    [result] = job.results.all()
    assert result.content_type == "image/png"
    assert result.width * 5 == result.height * 4
    assert _head(result.image, 8) == b"\x89PNG\r\n\x1a\n"
    assert _head(result.thumbnail, 3) == b"\xff\xd8\xff"
    assert engine.stats()["runs_accepted"] == 1


def test_base64_outputs_are_stored_too(start_worker, engine, alice):
    start_worker()
    job = wait_until_finished(make_job(alice, return_base64=True, output_format="jpeg"))

    assert job.status == JobStatus.COMPLETED
    [result] = job.results.all()
    assert _head(result.image, 3) == b"\xff\xd8\xff"


def test_a_pipeline_error_is_retried_with_a_new_attempt(start_worker, engine, alice):
    engine.add_faults({"on": "prediction", "error_name": "PipelineError", "times": 1})
    start_worker()

    job = wait_until_finished(make_job(alice))

    assert job.status == JobStatus.COMPLETED
    first, second = job.attempts.all()
    assert (first.status, first.error_name) == ("failed", "PipelineError")
    assert second.status == "completed"
    assert first.prediction_id != second.prediction_id
    assert engine.stats()["runs_accepted"] == 2


def test_retryable_errors_stop_after_the_attempt_limit(start_worker, engine, alice):
    engine.add_faults({"on": "prediction", "error_name": "ThirdPartyError", "times": 5})
    start_worker()

    job = wait_until_finished(make_job(alice))

    assert job.status == JobStatus.FAILED
    assert job.error_name == "ThirdPartyError"
    assert "Retry" in job.error_message
    assert job.attempts.count() == 3
    assert engine.stats()["runs_accepted"] == 3


@pytest.mark.parametrize(
    ("error_name", "advice"),
    [
        ("ImageLoadError", "Upload it again"),
        ("ContentModerationError", "everyday selfie"),
        ("InputValidationError", "face the camera"),
        ("PoseError", "Face the camera"),
    ],
)
def test_permanent_errors_end_the_job_at_once(start_worker, engine, alice, error_name, advice):
    engine.add_faults({"on": "prediction", "error_name": error_name, "times": 1})
    start_worker()

    job = wait_until_finished(make_job(alice))

    assert job.status == JobStatus.FAILED
    assert job.error_name == error_name
    assert advice in job.error_message
    assert job.attempts.count() == 1
    assert engine.stats()["runs_accepted"] == 1


def test_a_selfie_without_a_face_fails_with_advice(start_worker, engine, alice):
    from ..support.faces import flat_image

    start_worker()
    job = wait_until_finished(make_job(alice, selfie=flat_image(image_format="JPEG")))

    assert job.status == JobStatus.FAILED
    assert job.error_name == "InputValidationError"
    assert job.attempts.count() == 1


def test_a_rate_limited_submission_is_sent_again_later(start_worker, engine, alice):
    engine.add_faults(
        {"on": "run", "http_status": 429, "error": "ConcurrencyLimitExceeded", "times": 2}
    )
    start_worker()

    job = wait_until_finished(make_job(alice))

    assert job.status == JobStatus.COMPLETED
    stats = engine.stats()
    assert stats["run_calls"] == 3
    assert stats["runs_accepted"] == 1


def test_a_submission_that_may_have_arrived_is_never_sent_twice(start_worker, engine, alice):
    # The engine creates the prediction but answers after the client's read timeout.
    engine.add_faults({"on": "run", "delay_seconds": 5, "times": 1})
    start_worker()

    job = wait_until_finished(make_job(alice))

    assert job.status == JobStatus.FAILED
    assert job.error_name == "SubmissionUnconfirmed"
    assert "not charged twice" in job.error_message
    assert engine.stats()["run_calls"] == 1


def test_a_prediction_that_never_ends_hits_the_deadline(start_worker, engine, alice, settings):
    engine.add_faults({"on": "prediction", "hang": True, "times": 1})
    start_worker()
    job = make_job(alice)
    AvatarJob.objects.filter(pk=job.pk).update(
        deadline_at=timezone.now() + timezone.timedelta(seconds=3)
    )

    job = wait_until_finished(job, timeout=20)

    assert job.status == JobStatus.FAILED
    assert job.error_name == "DeadlineExceeded"
    assert engine.stats()["runs_accepted"] == 1


def test_a_killed_worker_resumes_polling_without_submitting_again(start_worker, engine, alice):
    engine.configure(processing_seconds=4)
    worker = start_worker()
    job = make_job(alice)
    wait_for(lambda: job.attempts.exists(), timeout=15, message="the prediction id to be saved")

    worker.kill()  # the worker dies holding the poll message
    start_worker()
    # Once the step's lease is over, the sweeper (beat runs it every few seconds) re-issues it.
    counts = wait_for(_sweep_until_reissued, timeout=20, message="the sweeper to re-issue the poll")
    job = wait_until_finished(job)

    assert counts["reissued"] >= 1
    assert job.status == JobStatus.COMPLETED
    assert job.attempts.count() == 1
    assert engine.stats()["run_calls"] == 1


def test_the_sweeper_recovers_a_job_whose_message_was_lost(start_worker, engine, alice, redis_url):
    import redis

    job = make_job(alice)  # its submit message waits in Redis: no worker yet
    queue = celery_app.conf.task_default_queue
    # The message is lost: the queue held it (one key deleted), and a worker finds it empty.
    assert redis.Redis.from_url(redis_url).delete(queue) == 1
    start_worker()
    assert AvatarJob.objects.get(pk=job.pk).status == JobStatus.QUEUED

    counts = wait_for(_sweep_until_reissued, timeout=10, message="the sweeper to re-issue")
    job = wait_until_finished(job)

    assert counts["reissued"] == 1
    assert job.status == JobStatus.COMPLETED
    assert engine.stats()["run_calls"] == 1


def test_the_in_flight_limit_is_shared_by_all_workers(
    start_worker, worker_env, engine, alice, settings
):
    engine.configure(processing_seconds=1, max_in_flight=2)
    settings.FASHN_MAX_IN_FLIGHT = 2
    worker_env["FASHN_MAX_IN_FLIGHT"] = "2"
    start_worker()
    start_worker()
    jobs = [make_job(alice, seed=seed) for seed in range(6)]

    finished = [wait_until_finished(job, timeout=60) for job in jobs]

    assert {job.status for job in finished} == {JobStatus.COMPLETED}
    stats = engine.stats()
    assert stats["max_in_flight_seen"] <= 2
    assert stats["rejected"].get("ConcurrencyLimitExceeded", 0) == 0
    assert stats["runs_accepted"] == 6


def _sweep_until_reissued():
    counts = steps.sweep_overdue_jobs()
    return counts if counts["reissued"] else None


def _head(field_file, size):
    with field_file.open("rb") as handle:
        return handle.read(size)
