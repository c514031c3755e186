"""The whole candidates journey in Chromium, as a shopper makes it: four images at 2k in the best
quality, the cost seen before sending, one picked, and that one in the gallery, a share link and
the store. A real Celery worker makes the avatar and the try-on against the offline engine."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio import fashn
from avatar_studio.avatars import options
from avatar_studio.avatars.models import AvatarJob, JobStatus, ShareLink
from avatar_studio.shop.catalogue import DEMO_GARMENTS
from avatar_studio.shop.models import TryOn

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]

CHOSEN = {"generation_mode": "quality", "resolution": "2k", "num_images": 4}
# Generous: the page follows a real worker, and the machine is shared.
FINISHED = 120_000


def _log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("form button[type=submit]")
    expect(page.locator("#upload-title")).to_be_visible()
    page.wait_for_load_state("load")  # the upload page's script has run


def _credits_shown(page):
    """The credits next to the button: the first "<n> credit(s)" there, whatever words surround
    it (the daily allowance may add its own figures)."""
    text = page.locator("#cost").inner_text()
    found = re.search(r"(?<!\d)(\d+) credits?\b", text)
    assert found, text
    return int(found.group(1))


def _expect_cost(page, credits):
    expect(page.locator("#cost")).to_have_text(re.compile(rf"(?<!\d){credits} credits?\b"))
    assert _credits_shown(page) == credits


def _images_loaded(page, selector):
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
        arg=selector,
    )


def test_four_candidates_at_2k_best_quality_picked_and_seen_everywhere(
    live_server, start_worker, engine, new_page, screenshot, selfie_path, alice, settings
):
    settings.AVATAR_MAX_RESOLUTION = "2k"
    start_worker()
    base = live_server.url
    page = new_page()
    _log_in(page, base)

    # The cost before sending: the server's figure for the defaults, then for each choice.
    _expect_cost(page, options.estimated_credits(options.current().defaults()))
    default_credits = _credits_shown(page)
    page.get_by_label("Best quality", exact=False).check()
    _expect_cost(page, fashn.credits_for(generation_mode="quality", resolution="1k"))
    page.get_by_label(re.compile(r"\bLarge \(")).check()
    _expect_cost(page, fashn.credits_for(generation_mode="quality", resolution="2k"))
    four = page.locator("label.choice", has=page.locator("input[name=num_images][value='4']"))
    expect(four).to_have_text("4")
    four.click()
    expect(page.locator("input[name=num_images][value='4']")).to_be_checked()
    expected = options.estimated_credits(CHOSEN)
    assert expected == 16  # quality at 2k is 4 credits an image (FASHN's table)
    _expect_cost(page, expected)
    assert expected != default_credits
    # None of this needed the advanced options.
    assert page.locator("details.advanced").evaluate("details => details.open") is False

    page.set_input_files("#id_face_image", str(selfie_path))
    expect(page.locator("[data-preview]")).to_be_visible()
    page.click("[data-suggestion='athletic build']")
    page.check("#id_consent")
    screenshot(page, "journey-01-upload-chosen-desktop")
    page.click("form.upload-form button[type=submit]")

    expect(page.locator("#job-panel")).to_be_visible()
    job = AvatarJob.objects.get(owner=alice)
    assert (job.generation_mode, job.resolution, job.num_images) == ("quality", "2k", 4)
    assert options.estimated_credits(job) == expected
    expect(page.locator("#job-panel[data-status=completed]")).to_be_visible(timeout=FINISHED)
    job = AvatarJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.COMPLETED, job.error_message
    # What FASHN (here the offline engine) charged is what the page said it would.
    assert engine.stats()["credits_used"] == expected
    expect(page.locator(".job-side")).to_contain_text(options.credit_count(expected))

    # Four images side by side, each a distinct 2k image.
    figures = page.locator(".results.candidates figure")
    expect(figures).to_have_count(4)
    _images_loaded(page, ".results img")
    tops = [figures.nth(i).bounding_box()["y"] for i in range(4)]
    # Side by side, not one under another (the page lays them out two to a row).
    assert len({round(top) for top in tops}) < len(tops), tops
    results = list(job.results.order_by("index"))
    assert [result.index for result in results] == [0, 1, 2, 3]
    assert all(result.width * result.height > 3_000_000 for result in results)  # about 4 MP
    screenshot(page, "journey-02-four-candidates-desktop")

    phone = new_page(width=390, height=844)
    _log_in(phone, base)
    phone.goto(f"{base}{reverse('avatars:job', args=[job.pk])}")
    expect(phone.locator(".results.candidates figure")).to_have_count(4)
    _images_loaded(phone, ".results img")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "journey-03-four-candidates-phone")

    # Image 3 becomes "my avatar".
    page.get_by_role("button", name="Make image 3 my avatar").click()
    expect(page.locator("#candidate-2 .badge-chosen")).to_be_visible()
    expect(page.locator(".badge-chosen")).to_have_count(1)
    chosen = AvatarJob.objects.get(pk=job.pk).avatar_result
    assert chosen.index == 2 and chosen.pk == results[2].pk
    _images_loaded(page, ".results img")
    screenshot(page, "journey-04-picked-desktop")

    # The gallery shows image 3.
    page.goto(f"{base}{reverse('avatars:gallery')}")
    thumbnail = page.locator(".gallery img")
    expect(thumbnail).to_have_count(1)
    expect(thumbnail).to_have_attribute(
        "src", reverse("avatars:result-thumbnail", args=[job.pk, 2])
    )
    _images_loaded(page, ".gallery img")
    screenshot(page, "journey-05-gallery-desktop")

    # A share link shows image 3, to someone who is not logged in, and no other image.
    page.goto(f"{base}{reverse('avatars:job', args=[job.pk])}")
    with page.expect_navigation():
        page.get_by_role("button", name="Create a share link").click()
    link = ShareLink.objects.get(job=job)
    shared_url = f"{base}{reverse('avatars:shared', args=[link.token])}"
    expect(page.locator(".share-url")).to_have_value(shared_url)
    stranger = new_page()
    response = stranger.goto(shared_url)
    assert response.status == 200
    shared_image = stranger.locator(".shared img")
    expect(shared_image).to_have_count(1)
    expect(shared_image).to_have_attribute(
        "src", reverse("avatars:shared-image", args=[link.token, 2])
    )
    _images_loaded(stranger, ".shared img")
    assert shared_image.evaluate("img => img.naturalWidth") == results[2].width
    for index in (0, 1, 3):
        other = stranger.request.get(
            f"{base}{reverse('avatars:shared-image', args=[link.token, index])}"
        )
        assert other.status == 404, index
    screenshot(stranger, "journey-06-shared-desktop")

    # The store offers image 3 to try on, and the try-on is made on it.
    garment = DEMO_GARMENTS[0]
    page.goto(f"{base}{reverse('shop:product', args=[garment.slug])}")
    offered = page.locator("#on-me ~ form .pick")
    expect(offered).to_have_count(1)
    expect(offered.locator("input[name=avatar]")).to_have_value(str(chosen.pk))
    expect(offered.locator("img")).to_have_attribute(
        "src", reverse("avatars:result-thumbnail", args=[job.pk, 2])
    )
    _images_loaded(page, ".pick img")
    screenshot(page, "journey-07-store-offers-image-3-desktop")
    page.get_by_role("button", name="See it on me").click()
    expect(page.locator("#look")).to_be_visible()
    expect(page.locator("#look[data-status=completed]")).to_be_visible(timeout=FINISHED)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=page.locator("#look img.look-image").element_handle(),
    )
    tryon = TryOn.objects.get()
    assert tryon.avatar_result_id == chosen.pk
    assert tryon.job.status == JobStatus.COMPLETED
    screenshot(page, "journey-08-tried-on-desktop")
