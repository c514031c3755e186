"""The avatar list and the try-on list in a real browser, for a reviewer, at desktop and phone
sizes: every thumbnail loads (the try-on, the avatar worn, the garment), and the shopper who
asked is on the try-on's row.

Avatars and try-ons are made for real by a Celery worker on the offline engine. Screenshots land
in ``test-artifacts/screenshots/admin-tryons-*.png`` for people to look at.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.review import services as review
from avatar_studio.shop import services as shop
from avatar_studio.shop.models import Product

from ..support.browser import save_screenshot as screenshot
from ..support.jobs import make_job, wait_until_finished
from .test_admin_browser import LIST_FITS, log_in

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]

SIZES = {"desktop": (1600, 1000), "phone": (390, 844)}


@pytest.fixture
def tryons(start_worker, engine, alice, bob, staff):
    """Alice's avatar is a model in the store; Bob tries a tee on it, Alice a hoodie on her own
    second avatar. Returns Bob's try-on job."""
    engine.configure(processing_seconds=0.2)
    start_worker()
    model, own = (
        wait_until_finished(make_job(alice, prompt=prompt, output_format="jpeg"))
        for prompt in ("athletic build", "slim build")
    )
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    bobs = shop.try_on(
        bob, Product.objects.get(slug="essential-crew-tee"), model.results.get()
    ).tryon.job
    alices = shop.try_on(
        alice, Product.objects.get(slug="forest-hoodie"), own.results.get()
    ).tryon.job
    for job in (bobs, alices):
        assert wait_until_finished(job).status == JobStatus.COMPLETED
    return bobs


def images_loaded(page):
    """Every thumbnail in the list has loaded as an image (a 404 leaves naturalWidth at 0)."""
    thumbnails = page.locator("#result_list img.job-thumb")
    expect(thumbnails.first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#result_list img.job-thumb')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    return thumbnails.count()


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_a_reviewer_sees_avatars_and_try_ons_in_two_lists(
    live_server, new_page, reviewer, tryons, size
):
    width, height = SIZES[size]
    page = new_page(width=width, height=height)
    log_in(page, live_server.url, "rita", "rita-password-1")

    page.goto(f"{live_server.url}{reverse('admin:avatars_avatarjob_changelist')}")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    loaded = images_loaded(page)
    screenshot(page, f"admin-tryons-01-avatar-list-{size}")
    assert loaded == 2  # the avatars (a completed job keeps no selfie)
    if size == "desktop":  # every column fits; on a phone the table scrolls, as Django's do
        assert page.evaluate(LIST_FITS), "the avatar list is wider than the page"

    page.click(".object-tools >> text=Try-ons")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    assert images_loaded(page) == 6  # each row: the try-on, the avatar worn, the garment
    bobs_row = page.locator(f"tr:has(input[value='{tryons.pk}'])")
    expect(bobs_row.locator(".field-asked_by")).to_have_text("bob")
    expect(bobs_row.locator(".field-avatar_worn")).to_contain_text("alice")
    expect(bobs_row.locator(".field-garment")).to_contain_text("Essential crew tee")
    screenshot(page, f"admin-tryons-02-tryon-list-{size}")
    if size == "desktop":
        assert page.evaluate(LIST_FITS), "the try-on list is wider than the page"

    bobs_row.locator(".field-short_id a").click()
    expect(page.locator(".field-asked_by_with_dates")).to_contain_text("bob")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.job-thumb')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    screenshot(page, f"admin-tryons-03-tryon-page-{size}")

    page.locator(".field-avatar_worn_preview a").click()
    expect(page.locator("h2").first).to_be_visible()
    assert f"/admin/avatars/avatarjob/{tryons.model_result.job_id}/" in page.url
