"""The product as a person uses it, in a real browser, with a real worker and the offline engine."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.accounts.links import signup_token
from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..support.jobs import wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-Passphrase-7"


def sign_up(page, base, username):
    email = f"{username}@example.com"
    page.goto(f"{base}{reverse('signup')}")
    page.fill("#id_email", email)
    page.click("form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check your email")
    # The link the mail carries (the worker sends the mail itself, to its own console).
    page.goto(f"{base}{reverse('signup-finish', args=[signup_token(email)])}")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("#upload-title")).to_be_visible()
    page.wait_for_load_state("load")  # the upload page's script has run


def upload_selfie(page, selfie_path, prompt_suggestion="athletic build"):
    page.set_input_files("#id_face_image", str(selfie_path))
    expect(page.locator("[data-preview]")).to_be_visible()
    page.click(f"[data-suggestion='{prompt_suggestion}']")
    page.check("#id_consent")
    page.click("form.upload-form button[type=submit]")
    expect(page.locator("#job-panel")).to_be_visible()


def test_sign_up_upload_watch_it_complete_and_find_it_in_the_gallery(
    live_server, start_worker, engine, new_page, screenshot, selfie_path
):
    engine.configure(processing_seconds=2)
    start_worker()
    page = new_page()
    page.goto(live_server.url)
    screenshot(page, "01-landing")
    sign_up(page, live_server.url, "dana")
    screenshot(page, "02-upload")

    upload_selfie(page, selfie_path)
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#job-panel[data-status=processing]")).to_be_visible()
    screenshot(page, "03-job-processing")
    expect(page.locator("#job-panel[data-status=completed]")).to_be_visible()

    assert page.evaluate("window.__sameDocument") is True  # updated without a reload
    avatar = page.locator(".results img").first
    expect(avatar).to_have_attribute("alt", "AI-generated avatar 1 of 1")
    page.wait_for_function("img => img.naturalWidth === 832", arg=avatar.element_handle())
    expect(page.locator(".ai-label").first).to_have_text("AI-generated")
    screenshot(page, "04-job-completed")

    page.click("text=My avatars")
    thumbnail = page.locator(".gallery img").first
    expect(thumbnail).to_be_visible()
    page.wait_for_function(  # the thumbnail really loads (it is served through the owner check)
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    expect(page.locator(".gallery .badge").first).to_have_text("Completed")
    screenshot(page, "05-gallery")


def test_a_failed_avatar_is_retried_from_its_page(
    live_server, start_worker, engine, new_page, screenshot, selfie_path
):
    engine.add_faults({"on": "prediction", "error_name": "PipelineError", "times": 3})
    start_worker()
    page = new_page()
    sign_up(page, live_server.url, "erin")
    upload_selfie(page, selfie_path, "curvy figure")

    expect(page.locator("#job-panel[data-status=failed]")).to_be_visible()
    expect(page.locator(".failure")).to_contain_text("Press Retry")
    expect(page.locator(".failure code")).to_be_visible()  # the prediction id for support
    screenshot(page, "06-job-failed")

    page.click("text=Retry with a new seed")
    expect(page.locator(".flash")).to_contain_text("new seed")
    expect(page.locator("#job-panel[data-status=completed]")).to_be_visible()
    job = AvatarJob.objects.get()
    assert job.status == JobStatus.COMPLETED
    assert job.attempts.count() == 4
    assert job.seed != 42


def test_deleting_an_avatar_removes_it_and_its_files(
    live_server, start_worker, engine, new_page, screenshot, selfie_path, media_root
):
    start_worker()
    page = new_page()
    sign_up(page, live_server.url, "frank")
    upload_selfie(page, selfie_path)
    expect(page.locator("#job-panel[data-status=completed]")).to_be_visible()
    assert [path for path in media_root.rglob("*") if path.is_file()]

    page.click("text=Delete this avatar")
    screenshot(page, "07-confirm-delete")
    page.click("text=Delete for good")

    expect(page.locator(".flash")).to_contain_text("deleted")
    expect(page.locator(".empty")).to_contain_text("No avatars yet")
    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_another_user_cannot_open_my_pages_or_images(
    live_server, start_worker, engine, new_page, screenshot, selfie_path
):
    start_worker()
    owner = new_page()
    sign_up(owner, live_server.url, "gina")
    upload_selfie(owner, selfie_path)
    job = wait_until_finished(AvatarJob.objects.get())
    urls = [
        reverse("avatars:job", args=[job.pk]),
        reverse("avatars:selfie", args=[job.pk]),
        reverse("avatars:result", args=[job.pk, 0]),
        reverse("avatars:result-thumbnail", args=[job.pk, 0]),
        reverse("avatars:result-download", args=[job.pk, 0]),
    ]

    stranger = new_page()
    sign_up(stranger, live_server.url, "hank")
    for url in urls:
        response = stranger.goto(f"{live_server.url}{url}")
        assert response.status == 404, url
    screenshot(stranger, "08-not-found-for-another-user")
    stranger.goto(f"{live_server.url}{reverse('avatars:gallery')}")
    expect(stranger.locator(".empty")).to_contain_text("No avatars yet")
