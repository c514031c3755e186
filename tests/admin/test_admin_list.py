"""The job list and page in the admin: columns, thumbnails, filters, search, attempt history,
and a number of queries that does not grow with the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob, PredictionAttempt

from ..support.jobs import make_finished_job

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:avatars_avatarjob_changelist"


def list_page(client, **params):
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return response


def listed_ids(response):
    return {job.pk for job in response.context["cl"].result_list}


def test_the_list_shows_thumbnails_owner_state_attempts_time_and_credits(client, reviewer, alice):
    job = make_finished_job(alice)
    client.force_login(reviewer)

    page = list_page(client).content.decode()

    assert reverse("avatars:selfie", args=[job.pk]) in page
    assert reverse("avatars:result-thumbnail", args=[job.pk, 0]) in page
    row = list_page(client).context["cl"].result_list[0]
    assert row.attempt_total == 1
    assert row.credits_total == 1
    assert row.duration is not None
    for header in ("Owner", "Status", "Review", "Error", "Attempts", "Time taken", "Credits"):
        assert header in page


def test_the_thumbnails_are_served_to_staff(client, reviewer, alice):
    job = make_finished_job(alice)
    client.force_login(reviewer)

    assert client.get(reverse("avatars:selfie", args=[job.pk])).status_code == 200
    assert client.get(reverse("avatars:result-thumbnail", args=[job.pk, 0])).status_code == 200


def test_the_list_costs_the_same_queries_for_two_jobs_or_twelve(client, reviewer, alice, bob):
    for _ in range(2):
        make_finished_job(alice)
    client.force_login(reviewer)
    list_page(client)  # warm up: sessions, content types

    with CaptureQueriesContext(connection) as few:
        list_page(client)
    for owner in [alice, bob] * 5:
        make_finished_job(owner, status="failed")
    with CaptureQueriesContext(connection) as many:
        list_page(client)

    assert len(many) == len(few)


def test_search_by_prediction_id_and_owner_does_not_double_count(client, reviewer, alice, bob):
    job = make_finished_job(alice)
    PredictionAttempt.objects.create(
        job=job, number=2, prediction_id="pred-second-look", submitted_at=timezone.now()
    )
    other = make_finished_job(bob)
    client.force_login(reviewer)

    by_prediction = list_page(client, q="pred-")
    by_owner = list_page(client, q="bob")

    assert listed_ids(by_prediction) == {job.pk, other.pk}
    counts = {row.pk: row.attempt_total for row in by_prediction.context["cl"].result_list}
    assert counts == {job.pk: 2, other.pk: 1}
    assert listed_ids(list_page(client, q="second-look")) == {job.pk}
    assert listed_ids(by_owner) == {other.pk}


def test_filters_by_status_review_state_error_name_and_date(client, reviewer, alice, offered_job):
    failed = make_finished_job(alice, status="failed", error_name="ContentModerationError")
    old = make_finished_job(alice, status="failed", error_name="PipelineError")
    AvatarJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timezone.timedelta(days=40)
    )
    client.force_login(reviewer)

    assert listed_ids(list_page(client, status__exact="failed")) == {failed.pk, old.pk}
    assert listed_ids(list_page(client, review_state__exact="pending")) == {offered_job.pk}
    assert listed_ids(list_page(client, error_name="ContentModerationError")) == {failed.pk}
    recent = list_page(
        client, created_at__gte=(timezone.now() - timezone.timedelta(days=7)).isoformat()
    )
    assert old.pk not in listed_ids(recent)


def test_the_job_page_shows_inputs_read_only_and_every_attempt(client, reviewer, alice):
    job = make_finished_job(alice, status="failed", error_name="PipelineError", prompt="slim")
    services.retry_job(job)
    PredictionAttempt.objects.create(
        job=job, number=2, prediction_id="pred-retry-2", submitted_at=timezone.now()
    )
    client.force_login(reviewer)

    page = client.get(reverse("admin:avatars_avatarjob_change", args=[job.pk])).content.decode()

    first = job.attempts.get(number=1)
    assert first.prediction_id in page
    assert "pred-retry-2" in page
    assert "FASHN inputs" in page
    assert "slim" in page
    assert 'name="prompt"' not in page  # read-only: shown, not editable
    assert "FASHN time" in page
