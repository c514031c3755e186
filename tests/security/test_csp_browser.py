"""In Chromium, under the Content-Security-Policy: no violation, and htmx, the upload preview
and the admin still work."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..support.browser import save_screenshot
from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db(transaction=True)


def _watch_csp(page):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text[:160]}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return violations


def _log_in(page, base, username, password):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")


def test_htmx_polls_and_swaps_the_panel_under_the_policy(live_server, new_page, alice, tmp_path):
    job = make_job(alice)  # queued, no worker: the panel keeps polling
    page = new_page()
    violations = _watch_csp(page)
    _log_in(page, live_server.url, "alice", "alice-password-1")
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[job.pk])}")
    page.wait_for_load_state("load")
    page.evaluate("window.__sameDocument = true")

    with page.expect_request(
        lambda request: request.headers.get("hx-request") == "true", timeout=10_000
    ):
        pass
    # The job fails meanwhile: the next poll swaps in the failed panel, in the same document.
    AvatarJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error_message="Made to fail by the test."
    )
    expect(page.locator("#job-panel[data-status=failed]")).to_be_visible(timeout=10_000)
    expect(page.locator(".failure")).to_contain_text("Made to fail by the test.")
    assert page.evaluate("window.__sameDocument") is True
    save_screenshot(page, "csp-htmx-panel")
    assert violations == []


def test_the_upload_preview_and_the_job_page_have_no_violations(
    live_server, new_page, alice, selfie_path
):
    completed = make_finished_job(alice)
    page = new_page()
    violations = _watch_csp(page)
    _log_in(page, live_server.url, "alice", "alice-password-1")

    page.set_input_files("#id_face_image", str(selfie_path))
    expect(page.locator("[data-preview]")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[completed.pk])}")
    page.wait_for_load_state("load")
    page.goto(f"{live_server.url}{reverse('account')}")
    page.wait_for_load_state("load")

    assert violations == []


def test_the_admin_dashboard_and_api_docs_have_no_violations(live_server, new_page, admin_user):
    make_finished_job(admin_user)
    page = new_page()
    violations = _watch_csp(page)
    page.goto(f"{live_server.url}{reverse('admin:login')}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_load_state("load")

    for url in (
        reverse("admin:avatars_avatarjob_changelist"),
        reverse("admin:avatars_avatarjob_dashboard"),
        reverse("api:docs"),
    ):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
    expect(page.locator(".swagger-ui")).to_be_visible()
    save_screenshot(page, "csp-api-docs")

    assert violations == []
