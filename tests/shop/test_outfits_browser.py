"""In Chromium: a shopper adds bottoms to a top on its product page and watches both steps of
the outfit finish on its page (the real pipeline and offline engine); screenshots for people."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus

from ..support.browser import save_screenshot
from ..support.jobs import make_job, wait_until_finished
from .test_outfits import TOP, make_bottoms
from .test_products_browser import ALL_IMAGES_LOADED, SIZES, log_in

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]


def test_a_shopper_adds_bottoms_to_a_top_and_sees_the_outfit(
    live_server, new_page, start_worker, engine, alice
):
    engine.configure(processing_seconds=0.3)
    start_worker()
    make_bottoms()
    avatar = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED

    page = new_page(*SIZES["desktop"])
    log_in(page, live_server.url, "login", "alice", "alice-password-1")
    expect(page.locator("text=Log out")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('shop:product', args=[TOP])}")
    page.get_by_label("Add bottoms").select_option("indigo-trousers")
    page.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"outfits-01-product-{size}")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("button:has-text('Try on the outfit')")
    expect(page.locator("h1")).to_have_text("Your outfit")
    expect(page.locator("#outfit")).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator(".outfit-step img")).to_have_count(2)
    page.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"outfits-02-outfit-{size}")
