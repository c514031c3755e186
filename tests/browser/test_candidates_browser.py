"""Candidates in Chromium: a four-image avatar shows its images side by side, the owner picks one
(the gallery then shows it) and makes it again in high quality as a new avatar linked both ways.

The avatars are made by the real pipeline against the offline engine, run in the test's process
(the steps a worker would run), so the test controls when each one finishes.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..privacy.conftest import run_pipeline_in_process
from ..support.jobs import make_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def candidates(engine, alice, fast_pipeline, settings):
    # Keep a completed avatar's selfie a day (the default deletes it at once), so it can be
    # made again; the largest size offered here is 2k, which the remake asks for.
    settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS = 24
    settings.AVATAR_MAX_RESOLUTION = "2k"
    job = run_pipeline_in_process(
        make_job(alice, generation_mode="fast", resolution="1k", num_images=4, seed=500)
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    return job


def _log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("form button[type=submit]")
    expect(page.locator("#upload-title")).to_be_visible()


def _images_loaded(page, selector):
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
        arg=selector,
    )


def test_pick_a_candidate_see_it_in_the_gallery_and_make_it_in_high_quality(
    live_server, new_page, screenshot, candidates
):
    page = new_page()
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[candidates.pk])}")

    figures = page.locator(".results.candidates figure")
    expect(figures).to_have_count(4)
    _images_loaded(page, ".results img")
    # Before a pick the first image is the avatar.
    expect(page.locator("#candidate-0 .badge-chosen")).to_have_text("My avatar")
    expect(page.locator(".badge-chosen")).to_have_count(1)
    screenshot(page, "candidates-01-four-desktop")

    page.get_by_role("button", name="Make image 3 my avatar").click()
    expect(page.locator(".flash-success")).to_contain_text("Image 3 is now your avatar")
    expect(page.locator("#candidate-2")).to_have_class(re.compile(r"\bchosen\b"))
    expect(page.locator("#candidate-2 .badge-chosen")).to_have_text("My avatar")
    expect(page.locator("#candidate-0 .badge-chosen")).to_have_count(0)
    _images_loaded(page, ".results img")
    screenshot(page, "candidates-02-picked-desktop")
    assert AvatarJob.objects.get(pk=candidates.pk).avatar_result.index == 2

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My avatars").click()
    thumbnail = page.locator(".gallery img").first
    expect(thumbnail).to_have_attribute(
        "src", reverse("avatars:result-thumbnail", args=[candidates.pk, 2])
    )
    _images_loaded(page, ".gallery img")
    screenshot(page, "candidates-03-gallery-desktop")

    thumbnail.click()
    expect(page.locator(".candidate-actions")).to_contain_text("This uses 4 credits")
    page.get_by_role("button", name="Make my avatar in high quality").click()
    expect(page.locator(".flash-success")).to_contain_text("Making your avatar in high quality")
    remake = AvatarJob.objects.get(origin=candidates)
    assert page.url.endswith(reverse("avatars:job", args=[remake.pk]))
    origin_link = page.get_by_role("link", name="an earlier avatar")
    expect(origin_link).to_have_attribute("href", reverse("avatars:job", args=[candidates.pk]))
    assert (remake.seed, remake.resolution, remake.generation_mode) == (502, "2k", "quality")

    run_pipeline_in_process(remake)
    page.reload()
    expect(page.locator("#job-panel[data-status=completed]")).to_be_visible()
    expect(page.locator(".results figure")).to_have_count(1)
    _images_loaded(page, ".results img")
    width = page.locator(".results img").evaluate("img => img.naturalWidth")
    assert width > candidates.results.get(index=2).width
    screenshot(page, "candidates-04-remade-from-origin-desktop")

    origin_link.click()
    expect(page.locator("#job-panel")).to_contain_text("Made again in high quality")
    expect(page.get_by_role("link", name=re.compile("the completed remake of"))).to_have_attribute(
        "href", reverse("avatars:job", args=[remake.pk])
    )
    _images_loaded(page, ".results img")
    screenshot(page, "candidates-04-origin-links-remake-desktop")


def test_the_candidates_on_a_phone(live_server, new_page, screenshot, candidates):
    page = new_page(width=390, height=844)
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('avatars:job', args=[candidates.pk])}")

    expect(page.locator(".results.candidates figure")).to_have_count(4)
    _images_loaded(page, ".results img")
    # Nothing wider than the screen: the candidates sit side by side within it.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "candidates-05-four-phone")

    page.get_by_role("button", name="Make image 2 my avatar").click()
    expect(page.locator("#candidate-1 .badge-chosen")).to_have_text("My avatar")
    page.get_by_role("button", name="Discard the other 3 images").click()
    expect(page.locator(".flash-success")).to_contain_text("Discarded 3 images")
    expect(page.locator(".results figure")).to_have_count(1)
    assert list(candidates.results.values_list("index", flat=True)) == [1]
    _images_loaded(page, ".results img")
    screenshot(page, "candidates-06-discarded-phone")
