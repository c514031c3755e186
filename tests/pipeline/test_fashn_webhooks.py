"""FASHN webhooks in: a call to the submission's webhook_url brings the status check forward.

The call itself is never trusted (nothing signs it): it only schedules a poll, so a forged or
stale call can at most cost one status request.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from avatar_studio.avatars.models import PREDICTING_STATUSES, AvatarJob, JobStatus
from avatar_studio.avatars.pipeline import steps, transitions

from ..support.jobs import make_job, wait_until_finished

pytestmark = pytest.mark.django_db


def _submitted_job(owner, engine, settings, django_capture_on_commit_callbacks):
    """A job submitted to the engine in this process, its first poll scheduled but not sent."""
    settings.PUBLIC_BASE_URL = "http://testserver"
    job = make_job(owner)
    with django_capture_on_commit_callbacks(execute=False):
        steps.submit_job(job.pk, job.step_token)
    return AvatarJob.objects.get(pk=job.pk)


def _webhook(client, token, body=None):
    url = reverse("avatars:fashn-webhook", kwargs={"token": token})
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_each_submission_passes_a_webhook_url_with_a_fresh_secret(settings):
    settings.PUBLIC_BASE_URL = "https://avatars.example.com/"

    first, second = steps.webhook_url("secret-1"), steps.webhook_url("secret-2")

    assert first == "https://avatars.example.com/fashn/webhook/secret-1/"
    assert second != first


def test_without_a_public_base_url_there_is_no_webhook(settings):
    settings.PUBLIC_BASE_URL = ""

    assert steps.webhook_url("secret") is None


def test_a_webhook_schedules_an_immediate_status_check(
    client, engine, alice, settings, django_capture_on_commit_callbacks
):
    job = _submitted_job(alice, engine, settings, django_capture_on_commit_callbacks)
    scheduled_token, scheduled_at = job.step_token, job.next_action_at

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _webhook(client, job.webhook_token)

    assert response.status_code == 200
    assert response.json() == {"status": "checking"}
    job.refresh_from_db()
    assert job.step_token != scheduled_token  # the old poll message is now stale
    assert job.next_action_at <= scheduled_at
    assert len(callbacks) == 1  # one poll task, sent on commit


def test_the_payload_is_never_trusted(
    client, engine, alice, settings, django_capture_on_commit_callbacks
):
    job = _submitted_job(alice, engine, settings, django_capture_on_commit_callbacks)
    forged = {"id": "x", "status": "completed", "output": ["https://evil.example/a.png"]}

    with django_capture_on_commit_callbacks(execute=False):
        _webhook(client, job.webhook_token, forged)

    job.refresh_from_db()
    assert job.status == JobStatus.SUBMITTED
    assert not job.results.exists()


def test_an_unknown_secret_is_404_and_changes_nothing(
    client, engine, alice, settings, django_capture_on_commit_callbacks
):
    job = _submitted_job(alice, engine, settings, django_capture_on_commit_callbacks)

    response = _webhook(client, "not-a-secret-we-issued")

    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.SUBMITTED


# Ways a submitted job's secret stops bringing a poll forward, each through the state machine.
NO_POLL_WAITING = {
    "completed": lambda job: transitions.complete_job(
        job, job.attempts.get(), stored_outputs=[], credits_used=1
    ),
    "failed": lambda job: transitions.fail_job(job, "ImageLoadError"),
    "queued for another attempt": lambda job: transitions.record_attempt_failure(
        job, job.attempts.get(), status="failed", error_name="PipelineError", error_message=""
    ),
    # A worker has claimed the poll and is running it: it is not doubled.
    "being polled right now": lambda job: transitions.claim_step(
        job.pk, job.step_token, PREDICTING_STATUSES
    ),
}


@pytest.mark.parametrize("state", NO_POLL_WAITING)
def test_a_secret_with_no_poll_to_bring_forward_answers_like_an_unknown_one(
    state, client, engine, alice, settings, django_capture_on_commit_callbacks
):
    """Finished, re-queued or busy: the answer (status, body, even the queries made) is the
    unknown secret's, so a secret tells whoever holds it nothing about its job."""
    job = _submitted_job(alice, engine, settings, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        assert NO_POLL_WAITING[state](job)
    before = AvatarJob.objects.values().get(pk=job.pk)
    with CaptureQueriesContext(connection) as unknown_queries:
        unknown = _webhook(client, "not-a-secret-we-issued")

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        response = _webhook(client, job.webhook_token)

    assert (response.status_code, response.content) == (unknown.status_code, unknown.content)
    assert response.status_code == 404
    assert len(queries) == len(unknown_queries)
    assert callbacks == []
    assert AvatarJob.objects.values().get(pk=job.pk) == before


def test_only_post_is_accepted(client, engine, alice, settings, django_capture_on_commit_callbacks):
    job = _submitted_job(alice, engine, settings, django_capture_on_commit_callbacks)
    url = reverse("avatars:fashn-webhook", kwargs={"token": job.webhook_token})

    assert client.get(url).status_code == 405


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_engine_webhook_completes_a_job_long_before_the_first_poll(
    live_server, engine, worker_env, start_worker, alice, settings
):
    # Polling alone would first look after 60 s; the engine finishes after 1 s and calls us.
    engine.configure(processing_seconds=1.0)
    worker_env.update({"PUBLIC_BASE_URL": live_server.url, "AVATAR_FIRST_POLL_SECONDS": "60"})
    start_worker()

    job = wait_until_finished(make_job(alice), timeout=15)

    assert job.status == JobStatus.COMPLETED
    assert job.results.count() == 1
    assert engine.stats()["status_calls"] == 1  # the one the webhook asked for
