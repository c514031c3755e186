"""Selfie retention: gone once the avatar completes, kept for a failed one's Retry for a while."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from avatar_studio import celery_app
from avatar_studio.avatars import retention, services
from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db


def _age(job, **delta):
    AvatarJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(**delta))
    return AvatarJob.objects.get(pk=job.pk)


def test_a_completed_avatars_selfie_is_deleted_once_the_completion_commits(
    alice, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = make_finished_job(alice)
    # make_finished_job reads the job before the receivers ran: read it again.
    name = job.selfie.name

    fresh = AvatarJob.objects.get(pk=job.pk)
    assert fresh.status == JobStatus.COMPLETED
    assert not fresh.selfie
    assert not default_storage.exists(name)
    assert fresh.results.count() == 1  # the avatar itself stays


def test_the_selfie_is_not_touched_before_the_completion_commits(alice, eager_tasks):
    # No on_commit callbacks run in this test's transaction: the job_finished signal is not sent.
    job = make_finished_job(alice)

    assert AvatarJob.objects.get(pk=job.pk).selfie
    assert default_storage.exists(job.selfie.name)


def test_a_retention_of_some_hours_leaves_the_deletion_to_the_purge(
    alice, eager_tasks, settings, django_capture_on_commit_callbacks
):
    settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS = 24
    with django_capture_on_commit_callbacks(execute=True):
        job = make_finished_job(alice)
    assert default_storage.exists(job.selfie.name)

    assert retention.purge_expired_files().total == 0
    job = _age(job, hours=25)
    report = retention.purge_expired_files()

    assert report.completed == [(job.pk, job.selfie.name)]
    assert not default_storage.exists(job.selfie.name)


def test_a_failed_avatar_keeps_its_selfie_for_the_configured_days_then_loses_it(alice, settings):
    settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS = 7
    recent = _age(make_finished_job(alice, status="failed"), days=6)
    old = _age(make_finished_job(alice, status="failed"), days=8)

    report = retention.purge_expired_files()

    assert report.failed == [(old.pk, old.selfie.name)]
    assert default_storage.exists(recent.selfie.name)
    assert not default_storage.exists(old.selfie.name)
    old = AvatarJob.objects.get(pk=old.pk)
    assert not old.selfie
    assert old.status == JobStatus.FAILED
    assert "7 days later its selfie was deleted" in old.error_message
    assert old.error_name == "PipelineError"  # why it failed stays, for staff


def test_a_failed_job_retried_meanwhile_keeps_its_selfie(alice):
    job = _age(make_finished_job(alice, status="failed"), days=30)
    stale = AvatarJob.objects.get(pk=job.pk)
    services.retry_job(job)

    assert not retention.purge_selfie(stale)  # it is queued now: the guarded update misses
    assert default_storage.exists(job.selfie.name)


def test_the_command_prints_what_it_removed_and_a_dry_run_removes_nothing(alice, capsys):
    completed = make_finished_job(alice)  # no on_commit here: the selfie is still stored
    failed = _age(make_finished_job(alice, status="failed"), days=10)
    kept = make_finished_job(alice, status="failed")

    call_command("purge_expired_files", "--dry-run")
    dry = capsys.readouterr().out
    assert default_storage.exists(completed.selfie.name)
    assert default_storage.exists(failed.selfie.name)
    assert f"would delete {completed.selfie.name}" in dry
    assert f"would delete {failed.selfie.name}" in dry
    assert "Dry run: 2 selfie(s)" in dry

    call_command("purge_expired_files")
    out = capsys.readouterr().out
    assert f"deleted {completed.selfie.name} (selfie of completed avatar {completed.pk})" in out
    assert f"deleted {failed.selfie.name} (selfie of failed avatar {failed.pk})" in out
    assert "2 selfie(s) deleted" in out
    assert not default_storage.exists(completed.selfie.name)
    assert not default_storage.exists(failed.selfie.name)
    assert default_storage.exists(kept.selfie.name)

    call_command("purge_expired_files")
    assert "0 selfie(s) deleted" in capsys.readouterr().out


def test_beat_runs_the_purge_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-files"]
    assert entry["task"] == "avatars.purge_expired_files"
    assert entry["schedule"].run_every == timedelta(hours=1)
    assert "avatars.purge_expired_files" in celery_app.tasks


def test_the_beat_task_purges(alice, eager_tasks):
    job = make_finished_job(alice)

    celery_app.tasks["avatars.purge_expired_files"].delay()

    assert not default_storage.exists(job.selfie.name)


def test_pages_work_without_the_selfie_and_retry_explains_it_is_gone(client, alice, admin_user):
    job = _age(make_finished_job(alice, status="failed"), days=10)
    done = make_finished_job(alice)
    retention.purge_expired_files()
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "its selfie was deleted" in html
    assert reverse("avatars:job-retry", args=[job.pk]) not in html
    assert "Upload your selfie again" in html
    assert reverse("avatars:selfie", args=[job.pk]) not in html
    assert client.get(reverse("avatars:job", args=[done.pk])).status_code == 200
    assert client.get(reverse("avatars:gallery")).status_code == 200
    assert client.get(reverse("avatars:selfie", args=[job.pk])).status_code == 404

    response = client.post(reverse("avatars:job-retry", args=[job.pk]), follow=True)
    assert "its selfie was deleted" in response.content.decode()
    assert AvatarJob.objects.get(pk=job.pk).status == JobStatus.FAILED

    client.force_login(admin_user)
    assert client.get(reverse("admin:avatars_avatarjob_changelist")).status_code == 200
    assert client.get(reverse("admin:avatars_avatarjob_change", args=[job.pk])).status_code == 200


def test_a_job_still_running_keeps_its_selfie(alice):
    job = make_job(alice)
    AvatarJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=30))

    assert retention.purge_expired_files().total == 0
    assert default_storage.exists(job.selfie.name)
