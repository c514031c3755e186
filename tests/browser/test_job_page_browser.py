"""In Chromium: the upload page refuses an over-size or non-image file before sending it, the job
page's share links have a copy button and keep the chosen duration, and the gallery marks shared
and showcased avatars."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from avatar_studio.avatars.models import AvatarJob, ReviewState, ShareLink

from ..support.faces import astronaut_jpeg
from ..support.jobs import make_finished_job

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("form button[type=submit]")
    expect(page.locator("#upload-title")).to_be_visible()
    page.wait_for_load_state("load")  # the upload page's script has run


def _posts(page):
    """Every POST the page sends from now on: none may carry a refused file."""
    sent = []
    page.on(
        "request", lambda request: sent.append(request.url) if request.method == "POST" else None
    )
    return sent


def test_a_file_over_the_limit_is_refused_before_it_is_sent(
    live_server, new_page, screenshot, alice
):
    page = new_page()
    _log_in(page, live_server.url)
    posts = _posts(page)
    limit = django_settings.SELFIE_MAX_UPLOAD_BYTES
    # A real JPEG's first bytes, padded to 1 MB over the limit.
    big = astronaut_jpeg() + b"\0" * (limit + 1_048_576 - len(astronaut_jpeg()))

    page.set_input_files(
        "#id_face_image", files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": big}]
    )

    error = page.locator("#face-image-error")
    expect(error).to_have_text(
        "The file is 16 MB, over the 15 MB limit. Upload a smaller photo: most phones can share "
        "or export a photo at a smaller size."
    )
    expect(error).to_have_attribute("role", "alert")
    face_image = page.locator("#id_face_image")
    expect(face_image).to_have_attribute(
        "aria-describedby", "id_face_image_helptext face-image-error"
    )
    expect(face_image).to_have_attribute("aria-invalid", "true")
    assert face_image.evaluate("input => input.files.length") == 0  # the selection is cleared
    expect(page.locator("[data-preview]")).to_be_hidden()
    screenshot(page, "upload-too-large-desktop")

    # Sending the form now sends no file: the server answers that none was chosen.
    page.check("#id_consent")
    page.click(".upload-form button[type=submit]")
    expect(error).to_have_text("Choose a photo of your face to upload.")
    assert len(posts) == 1  # that one sending, and nothing when the file was chosen
    assert AvatarJob.objects.count() == 0


def test_a_text_file_is_refused_in_the_servers_words_with_no_broken_preview(
    live_server, new_page, screenshot, alice
):
    page = new_page(width=390, height=844)
    _log_in(page, live_server.url)
    posts = _posts(page)

    page.set_input_files(
        "#id_face_image",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"my shopping list"}],
    )

    error = page.locator("#face-image-error")
    expect(error).to_have_text(
        "This is a text file, not a photo. Upload a JPEG, PNG, WebP or HEIC photo of your face."
    )
    expect(page.locator("img[src^='blob:']")).to_have_count(0)
    expect(page.locator("[data-preview]")).to_be_hidden()
    assert page.locator("#id_face_image").evaluate("input => input.files.length") == 0
    screenshot(page, "upload-text-file-phone")

    # A photo chosen next clears the error and gets its preview.
    page.set_input_files(
        "#id_face_image",
        files=[{"name": "me.jpg", "mimeType": "image/jpeg", "buffer": astronaut_jpeg()}],
    )
    expect(error).to_be_hidden()
    expect(page.locator("img[data-preview][src^='blob:']")).to_be_visible()
    expect(page.locator("#id_face_image")).to_have_attribute(
        "aria-describedby", "id_face_image_helptext"
    )
    assert posts == []
    assert AvatarJob.objects.count() == 0


def test_without_javascript_the_server_still_refuses_a_text_file(live_server, browser, alice):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{reverse('login')}")
        page.fill("#id_username", "alice")
        page.fill("#id_password", "alice-password-1")
        page.click("form button[type=submit]")
        page.set_input_files(
            "#id_face_image",
            files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"my shopping list"}],
        )
        page.check("#id_consent")
        page.click(".upload-form button[type=submit]")

        expect(page.locator("#face-image-error")).to_have_text(
            "This is a text file, not a photo. Upload a JPEG, PNG, WebP or HEIC photo of your face."
        )
        assert AvatarJob.objects.count() == 0
    finally:
        context.close()


def _create_link(page, days_label):
    page.select_option("#id_days", label=days_label)
    with page.expect_navigation():
        page.click("text=Create a share link")


def test_share_links_copy_and_the_duration_is_remembered(live_server, new_page, screenshot, alice):
    job = make_finished_job(alice)
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[job.pk])}")

    _create_link(page, "30 days")

    link = ShareLink.objects.get(job=job)
    assert link.expires_at > timezone.now() + timedelta(days=29)
    expect(page.locator("#id_days")).to_have_value("30")  # still chosen for the next link
    page.get_by_role("button", name="Copy link").click()
    status = page.locator("[data-copy-status]")
    expect(status).to_have_text("Copied")
    expect(status).to_have_attribute("role", "status")
    shared = f"{live_server.url}{reverse('avatars:shared', args=[link.token])}"
    assert page.evaluate("navigator.clipboard.readText()") == shared
    screenshot(page, "job-share-desktop")

    phone = new_page(width=390, height=844)
    _log_in(phone, live_server.url)
    phone.goto(f"{live_server.url}{reverse('avatars:job', args=[job.pk])}#share")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "job-share-phone")


def test_without_the_clipboard_api_the_link_is_selected_for_copying(live_server, new_page, alice):
    job = make_finished_job(alice)
    ShareLink.objects.create(job=job, expires_at=timezone.now() + timedelta(days=7))
    page = new_page()
    # A browser without the Clipboard API (or a page not allowed to use it).
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[job.pk])}")

    page.get_by_role("button", name="Copy link").click()

    expect(page.locator("[data-copy-status]")).to_contain_text("Link selected")
    field = page.locator(".share-url")
    expect(field).to_be_focused()
    selected = field.evaluate(
        "input => input.value.slice(input.selectionStart, input.selectionEnd)"
    )
    assert selected == field.input_value() and selected.endswith("/")


def test_the_gallery_marks_in_words(live_server, new_page, screenshot, alice):
    shared = make_finished_job(alice, prompt="shared one")
    offered = make_finished_job(alice, prompt="offered one")
    approved = make_finished_job(alice, prompt="approved one")
    make_finished_job(alice, prompt="private one")
    ShareLink.objects.create(job=shared, expires_at=timezone.now() + timedelta(days=7))
    AvatarJob.objects.filter(pk=offered.pk).update(review_state=ReviewState.PENDING)
    AvatarJob.objects.filter(pk=approved.pk).update(review_state=ReviewState.APPROVED)

    for name, size in (("desktop", (1200, 900)), ("phone", (390, 844))):
        page = new_page(*size)
        _log_in(page, live_server.url)
        page.goto(f"{live_server.url}{reverse('avatars:gallery')}")
        item = page.locator(".gallery li")
        expect(item.filter(has_text="shared one").locator(".mark")).to_have_text(["Shared by link"])
        expect(item.filter(has_text="offered one").locator(".mark")).to_have_text(
            ["Offered for the showcase"]
        )
        expect(item.filter(has_text="approved one").locator(".mark")).to_have_text(
            ["In the public showcase"]
        )
        expect(item.filter(has_text="private one").locator(".mark")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        screenshot(page, f"gallery-marks-{name}")
