"""A staff retry runs through the normal pipeline: a real worker makes a new attempt on the offline
engine, and the job completes with its attempt history intact."""

import pytest
from django.urls import reverse

from avatar_studio.avatars.models import JobStatus

from ..support.jobs import make_finished_job, wait_until_finished
from ..support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_retried_job_gets_a_second_attempt_and_completes(client, start_worker, reviewer, alice):
    job = make_finished_job(alice, status="failed", error_name="PipelineError")
    first = job.attempts.get()
    start_worker()
    client.force_login(reviewer)

    client.post(
        reverse("admin:avatars_avatarjob_changelist"),
        {"action": "retry_failed", "_selected_action": [str(job.pk)]},
    )
    # Pressing it again while the new attempt runs must not start a second one.
    client.post(
        reverse("admin:avatars_avatarjob_changelist"),
        {"action": "retry_failed", "_selected_action": [str(job.pk)]},
    )

    job = wait_until_finished(job)
    assert job.status == JobStatus.COMPLETED
    attempts = list(job.attempts.order_by("number"))
    assert [attempt.number for attempt in attempts] == [1, 2]
    assert attempts[0].prediction_id == first.prediction_id
    assert attempts[1].status == "completed"
    assert wait_for(lambda: job.results.exists(), message="the stored avatar")
