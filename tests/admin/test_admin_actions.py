"""Staff actions on the job list: approve, reject with a reason, retry, re-run with a new seed,
delete with files. Each reports what it changed and why it skipped the rest, and is logged."""

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.urls import reverse

from avatar_studio.avatars import refusals, selectors
from avatar_studio.avatars.models import AvatarJob, JobStatus, ReviewState

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:avatars_avatarjob_changelist"


def run_action(client, action, jobs, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [str(job.pk) for job in jobs], **extra},
        follow=True,
    )


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def log_messages(job):
    return list(
        LogEntry.objects.filter(object_id=str(job.pk)).values_list("action_flag", "change_message")
    )


def fresh(job):
    return AvatarJob.objects.get(pk=job.pk)


# --- approve ----------------------------------------------------------------------------------


def test_approve_reports_what_changed_and_why_the_rest_was_skipped(
    client, reviewer, alice, offered_job
):
    failed = make_finished_job(alice, status="failed")
    private = make_finished_job(alice)
    client.force_login(reviewer)

    response = run_action(client, "approve_for_display", [offered_job, failed, private])

    assert fresh(offered_job).review_state == ReviewState.APPROVED
    assert fresh(offered_job).reviewed_by == reviewer
    assert fresh(failed).review_state == ReviewState.PRIVATE
    assert fresh(private).review_state == ReviewState.PRIVATE
    messages = texts(response)
    assert "Approved 1 job." in messages
    skipped = next(text for text in messages if text.startswith("Skipped 2 jobs"))
    assert f"1 job: {refusals.NOTHING_TO_SHOW.message}" in skipped
    assert f"1 job: {refusals.NOT_OFFERED.message}" in skipped
    assert log_messages(offered_job) == [(CHANGE, "Approved for public display.")]
    assert log_messages(failed) == []


def test_approving_twice_is_reported_as_already_approved(client, reviewer, offered_job):
    client.force_login(reviewer)
    run_action(client, "approve_for_display", [offered_job])

    response = run_action(client, "approve_for_display", [offered_job])

    assert "Approved 0 jobs." not in texts(response)
    assert f"Skipped 1 job. 1 job: {refusals.ALREADY_APPROVED.message}" in texts(response)
    assert len(log_messages(offered_job)) == 1


# --- reject -----------------------------------------------------------------------------------


def test_reject_asks_for_a_reason_then_shows_it_to_the_owner(client, reviewer, offered_job):
    client.force_login(reviewer)

    form = run_action(client, "reject_for_display", [offered_job])
    assert form.status_code == 200
    assert "Reason shown to the owner" in form.content.decode()
    assert fresh(offered_job).review_state == ReviewState.PENDING

    empty = run_action(client, "reject_for_display", [offered_job], apply="1", reason="  ")
    assert "This field is required." in empty.content.decode()
    assert fresh(offered_job).review_state == ReviewState.PENDING

    reason = "The face is cut off at the top; use a photo with your whole head."
    done = run_action(client, "reject_for_display", [offered_job], apply="1", reason=reason)

    job = fresh(offered_job)
    assert job.review_state == ReviewState.REJECTED
    assert job.review_reason == reason
    assert "Rejected 1 job." in texts(done)
    assert log_messages(job) == [(CHANGE, f"Rejected for public display: {reason}")]


def test_reject_skips_avatars_nobody_offered(client, reviewer, alice):
    private = make_finished_job(alice)
    client.force_login(reviewer)

    response = run_action(client, "reject_for_display", [private], apply="1", reason="No.")

    assert fresh(private).review_state == ReviewState.PRIVATE
    assert f"Skipped 1 job. 1 job: {refusals.NOT_OFFERED.message}" in texts(response)


# --- retry and re-run -------------------------------------------------------------------------


def test_retry_queues_failed_jobs_only(client, reviewer, alice, django_capture_on_commit_callbacks):
    failed = make_finished_job(alice, status="failed")
    completed = make_finished_job(alice)
    running = make_job(alice)
    client.force_login(reviewer)

    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(client, "retry_failed", [failed, completed, running])

    assert fresh(failed).status == JobStatus.QUEUED
    assert fresh(failed).seed == failed.seed
    assert fresh(completed).status == JobStatus.COMPLETED
    assert fresh(running).status == JobStatus.QUEUED  # untouched: it was queued already
    assert fresh(running).step_token == running.step_token
    assert len(callbacks) == 1  # one submit step scheduled, for the failed job
    messages = texts(response)
    assert "Retried 1 job." in messages
    skipped = next(text for text in messages if text.startswith("Skipped 2 jobs"))
    assert f"1 job: {refusals.RETRY_COMPLETED.message}" in skipped
    assert f"1 job: {refusals.RETRY_RUNNING.message}" in skipped
    assert log_messages(failed) == [(CHANGE, "Retried: a new attempt through the pipeline.")]


def test_a_second_retry_of_the_same_job_is_refused(client, reviewer, alice):
    failed = make_finished_job(alice, status="failed")
    stale = AvatarJob.objects.get(pk=failed.pk)  # as a second staff tab read it
    client.force_login(reviewer)
    run_action(client, "retry_failed", [failed])
    token = fresh(failed).step_token

    response = run_action(client, "retry_failed", [stale])

    assert fresh(failed).step_token == token  # no second submit step was issued
    assert any(text.startswith("Skipped 1 job") for text in texts(response))
    assert len(log_messages(failed)) == 1


@pytest.mark.parametrize("action", ["retry_failed", "rerun_with_new_seed"])
def test_retry_and_rerun_skip_a_job_whose_photo_was_refused(client, reviewer, alice, action):
    refused = make_finished_job(alice, status="failed", error_name="PoseError", seed=42)
    fixable = make_finished_job(alice, status="failed", error_name="PipelineError")
    client.force_login(reviewer)

    response = run_action(client, action, [refused, fixable])

    assert (fresh(refused).status, fresh(refused).seed) == (JobStatus.FAILED, 42)
    assert fresh(fixable).status == JobStatus.QUEUED
    skipped = next(text for text in texts(response) if text.startswith("Skipped 1 job"))
    assert f"1 job: {refusals.INPUT_REJECTED['PoseError'].message}" in skipped
    assert log_messages(refused) == []


def test_rerun_gives_a_failed_job_a_new_seed(client, reviewer, alice):
    failed = make_finished_job(alice, status="failed", seed=42)
    completed = make_finished_job(alice, seed=42)
    client.force_login(reviewer)

    response = run_action(client, "rerun_with_new_seed", [failed, completed])

    job = fresh(failed)
    assert job.status == JobStatus.QUEUED
    assert fresh(completed).seed == 42
    assert fresh(completed).status == JobStatus.COMPLETED
    assert "Re-ran 1 job." in texts(response)
    assert log_messages(job) == [(CHANGE, f"Re-run with new seed {job.seed} (was 42).")]


# --- delete -----------------------------------------------------------------------------------


def test_delete_removes_jobs_with_their_files_and_logs_it(
    client, superuser, alice, django_capture_on_commit_callbacks
):
    job = make_finished_job(alice)
    files = [job.selfie.name]
    files += [
        name for result in job.results.all() for name in (result.image.name, result.thumbnail.name)
    ]
    assert all(default_storage.exists(name) for name in files)
    client.force_login(superuser)

    confirm = run_action(client, "delete_selected", [job])
    assert "Are you sure" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(client, "delete_selected", [job], post="yes")

    assert not AvatarJob.objects.filter(pk=job.pk).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert "Successfully deleted 1 avatar job." in texts(done)
    assert [flag for flag, _message in log_messages(job)] == [DELETION]


def test_deleting_from_the_job_page_also_removes_files(
    client, superuser, alice, django_capture_on_commit_callbacks
):
    job = make_finished_job(alice)
    selfie = job.selfie.name
    client.force_login(superuser)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:avatars_avatarjob_delete", args=[job.pk]), {"post": "yes"})

    assert not AvatarJob.objects.filter(pk=job.pk).exists()
    assert not default_storage.exists(selfie)


def test_the_delete_action_is_labelled_with_files(client, superuser, alice):
    make_finished_job(alice)
    client.force_login(superuser)

    page = client.get(reverse(CHANGELIST)).content.decode()

    assert "Delete selected jobs with their files" in page


# --- the review state is shown to staff in the queue ------------------------------------------


def test_the_review_queue_lists_only_pending_avatars(client, reviewer, alice, offered_job):
    private = make_finished_job(alice)
    client.force_login(reviewer)

    page = client.get(reverse(CHANGELIST), {"review_state__exact": "pending"}).content.decode()

    assert "Review queue: avatars offered for public display" in page
    assert str(offered_job.pk)[:8] in page
    assert str(private.pk)[:8] not in page
    assert selectors.pending_review_count() == 1
