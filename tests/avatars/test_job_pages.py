"""A job's page and its actions: live panel, retry, delete, download, private files."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from avatar_studio.avatars.models import AvatarJob, AvatarResult, JobStatus
from avatar_studio.avatars.pipeline.failures import message_for
from avatar_studio.avatars.refusals import RETRY_COMPLETED

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_running_job_panel_keeps_polling_and_a_finished_one_stops(client, alice):
    running = make_job(alice)
    finished = make_finished_job(alice)
    client.force_login(alice)

    running_panel = client.get(reverse("avatars:job", args=[running.pk]), **HTMX)
    finished_panel = client.get(reverse("avatars:job", args=[finished.pk]), **HTMX)

    assert running_panel.content.decode().lstrip().startswith('<section class="card job-panel"')
    assert 'hx-trigger="every 1s"' in running_panel.content.decode()
    assert "<html" not in running_panel.content.decode()
    assert 'hx-trigger="every' not in finished_panel.content.decode()
    assert "HX-Request" in running_panel["Vary"]


def test_the_page_shows_steps_progress_and_elapsed_time(client, alice):
    job = make_job(alice)
    # Uploaded 95 s ago: the page counts from the upload to the request, in minutes and seconds.
    created = timezone.now() - timedelta(seconds=95)
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.IN_QUEUE, created_at=created)
    client.force_login(alice)

    before = timezone.now()
    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()
    after = timezone.now()

    assert '<li class="step step-done">Queued</li>' in page
    assert '<li class="step step-done">Submitted</li>' in page
    assert 'aria-current="step">In queue</li>' in page
    assert '<progress max="100" value="40"' in page
    elapsed_text = r'<span class="elapsed">(\d+) min (\d\d) s so far</span>'
    minutes, seconds = re.search(elapsed_text, page).groups()
    elapsed = 60 * int(minutes) + int(seconds)
    assert int((before - created).total_seconds()) <= elapsed <= (after - created).total_seconds()


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_a_finished_job_shows_how_long_it_took_from_upload_to_end(client, alice, status):
    job = make_finished_job(alice, status=status)
    # Uploaded 83 s before it finished, an hour ago: the page says 83 s, not the hour since.
    finished = timezone.now() - timedelta(hours=1)
    created = finished - timedelta(seconds=83)
    AvatarJob.objects.filter(pk=job.pk).update(created_at=created, finished_at=finished)
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()

    assert '<span class="elapsed">Took 1 min 23 s</span>' in page


def test_a_job_that_finished_within_the_second_does_not_say_0_s(client, alice):
    job = make_finished_job(alice)
    AvatarJob.objects.filter(pk=job.pk).update(finished_at=job.created_at + timedelta(0, 0.4))
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()

    assert '<span class="elapsed">Took under 1 s</span>' in page
    assert ">0 s<" not in page


def test_a_failure_a_retry_can_fix_explains_itself_and_offers_retry(client, alice):
    job = make_finished_job(alice, status="failed", error_name="PipelineError")
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()

    assert "internal error" in page
    assert job.attempts.get().prediction_id in page
    assert reverse("avatars:job-retry", args=[job.pk]) in page
    assert "Retry with a new seed" in page
    assert "Upload another photo" not in page


@pytest.mark.parametrize("error_name", ["InputValidationError", "ContentModerationError"])
def test_an_input_error_offers_another_photo_instead_of_retry(client, alice, error_name):
    job = make_finished_job(alice, status="failed", error_name=error_name)
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()

    assert html.escape(message_for(error_name)) in page
    assert job.attempts.get().prediction_id in page
    assert reverse("avatars:job-retry", args=[job.pk]) not in page
    assert ">Retry<" not in page
    assert "Retry with a new seed" not in page
    assert f'href="{reverse("avatars:upload")}">Upload another photo</a>' in page


def test_completed_avatars_are_labelled_and_downloadable(client, alice):
    job = make_finished_job(alice, output_format="png")
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()
    download = client.get(reverse("avatars:result-download", args=[job.pk, 0]))

    assert "AI-generated" in page
    assert 'alt="AI-generated avatar 1 of 1"' in page
    assert download.status_code == 200
    assert (
        download["Content-Disposition"] == f'attachment; filename="avatar-{str(job.pk)[:8]}-1.png"'
    )
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize("new_seed", [False, True])
def test_retry_starts_a_failed_job_again(client, alice, new_seed):
    job = make_finished_job(alice, status="failed", seed=42)
    client.force_login(alice)

    data = {"new_seed": "on"} if new_seed else {}
    response = client.post(reverse("avatars:job-retry", args=[job.pk]), data)

    job.refresh_from_db()
    assert response.status_code == 302
    assert job.status == JobStatus.QUEUED
    assert job.error_name == ""
    assert (job.seed != 42) if new_seed else (job.seed == 42)


def test_a_completed_job_cannot_be_retried(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)

    response = client.post(reverse("avatars:job-retry", args=[job.pk]), follow=True)

    assert RETRY_COMPLETED.message in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED


def test_delete_asks_first_then_removes_the_job_and_every_file(
    client, alice, media_root, django_capture_on_commit_callbacks
):
    job = make_finished_job(alice)
    files = [p for p in media_root.rglob("*") if p.is_file()]
    assert len(files) == 3  # selfie, image, thumbnail
    client.force_login(alice)

    confirm = client.get(reverse("avatars:job-delete", args=[job.pk]))
    assert "Delete for good" in confirm.content.decode()
    assert AvatarJob.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("avatars:job-delete", args=[job.pk]))

    assert response["Location"] == reverse("avatars:gallery")
    assert not AvatarJob.objects.exists()
    assert not AvatarResult.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_another_user_gets_404_for_every_page_file_and_action(client, alice, bob):
    job = make_finished_job(alice)
    client.force_login(bob)

    for name, args in [
        ("avatars:job", [job.pk]),
        ("avatars:job-status", [job.pk]),
        ("avatars:selfie", [job.pk]),
        ("avatars:result", [job.pk, 0]),
        ("avatars:result-thumbnail", [job.pk, 0]),
        ("avatars:result-download", [job.pk, 0]),
        ("avatars:job-delete", [job.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name in ("avatars:job-retry", "avatars:job-delete", "avatars:share-create"):
        assert client.post(reverse(name, args=[job.pk])).status_code == 404, name
    assert AvatarJob.objects.filter(pk=job.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in_for_private_files(client, alice):
    job = make_finished_job(alice)

    response = client.get(reverse("avatars:result", args=[job.pk, 0]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_without_the_view_permission_see_nothing_of_others(client, alice, staff):
    job = make_finished_job(alice, status="failed")
    client.force_login(staff)

    assert client.get(reverse("avatars:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("avatars:selfie", args=[job.pk])).status_code == 404


def test_the_view_permission_lets_staff_look_but_only_the_owner_can_change(client, alice, staff):
    job = make_finished_job(alice, status="failed")
    staff.user_permissions.add(Permission.objects.get(codename="view_avatarjob"))
    client.force_login(staff)

    assert client.get(reverse("avatars:job", args=[job.pk])).status_code == 200
    assert client.get(reverse("avatars:selfie", args=[job.pk])).status_code == 200
    assert client.post(reverse("avatars:job-retry", args=[job.pk])).status_code == 404


def test_private_files_are_never_cached_by_shared_caches(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)

    response = client.get(reverse("avatars:result", args=[job.pk, 0]))

    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["Content-Type"] == "image/png"


def test_nginx_streams_files_when_x_accel_redirect_is_configured(client, alice, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    job = make_finished_job(alice)
    client.force_login(alice)

    response = client.get(reverse("avatars:selfie", args=[job.pk]))

    assert response["X-Accel-Redirect"] == f"/protected-media/{job.selfie.name}"
    assert response.content == b""


def test_the_status_json_reports_progress(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)

    status = client.get(reverse("avatars:job-status", args=[job.pk])).json()

    assert status["status"] == "completed"
    assert status["percent"] == 100
    assert status["results"] == [reverse("avatars:result", args=[job.pk, 0])]


def test_the_settings_are_in_the_upload_forms_words_with_protocol_details_tucked_away(
    client, alice
):
    job = make_job(alice, generation_mode="quality", resolution="2k", num_images=3, seed=77)
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()
    summary, advanced = page.split('<details class="advanced-settings">')

    assert "<dt>Quality</dt><dd>Best quality</dd>" in summary
    assert "<dt>Image size</dt><dd>Large (1664×2496 px)</dd>" in summary
    assert "<dt>Images to choose from</dt><dd>3</dd>" in summary
    assert "<dt>Cost</dt><dd>12 credits</dd>" in summary  # 4 credits each at quality, 2k
    assert "Seed" not in summary and "<dd>77</dd>" in advanced
