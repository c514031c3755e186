"""In Chromium: a shopper adds the demo store's bottoms to a top on its product page, chooses the
standard or the premium try-on, and watches both steps of the outfit finish on its page (the
real pipeline and offline engine); screenshots for people."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus
from avatar_studio.shop import services
from avatar_studio.shop.models import Outfit, OutfitStep, Product

from ..support.browser import save_screenshot
from ..support.credits import spend
from ..support.jobs import make_job, wait_until_finished
from ..support.waiting import wait_for
from .test_outfits import TOP
from .test_outfits_pipeline import model_image_sent
from .test_products_browser import ALL_IMAGES_LOADED, SIZES, log_in

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]

BOTTOMS = "stone-chinos"  # loaddemo's: no product added by staff
CHOICES = {
    "tryon-v1.6": "Standard try-on (tryon-v1.6, 1 credit)",
    "tryon-max": "Premium try-on (tryon-max, 4 credits)",
}


@pytest.mark.parametrize("model_name", list(CHOICES))
def test_a_shopper_adds_bottoms_to_a_top_and_sees_the_outfit(
    live_server, new_page, start_worker, engine, alice, model_name
):
    engine.configure(processing_seconds=0.3)
    start_worker()
    avatar = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    shot = f"outfits-{model_name}"

    page = new_page(*SIZES["desktop"])
    log_in(page, live_server.url, "login", "alice", "alice-password-1")
    expect(page.locator("text=Log out")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('shop:product', args=[TOP])}")
    outfit_form = page.locator("#outfit-heading ~ form")
    outfit_form.get_by_label("Add bottoms").select_option(BOTTOMS)
    choice = outfit_form.get_by_label(CHOICES[model_name])
    choice.check()
    expect(choice).to_be_checked()
    page.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"{shot}-01-product-{size}")
    page.set_viewport_size({"width": 1280, "height": 900})

    outfit_form.locator("button:has-text('Try on the outfit')").click()
    expect(page.locator("h1")).to_have_text("Your outfit")
    expect(page.locator("#outfit")).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator(".outfit-step img")).to_have_count(2)
    expect(page.locator(".outfit-step h2")).to_have_text(["Essential crew tee", "Stone chinos"])
    page.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"{shot}-02-outfit-{size}")

    # Both steps by the model chosen, the bottoms over the top's stored picture, byte for byte.
    outfit = Outfit.objects.get()
    first, second = outfit.steps.select_related("tryon__job").order_by("order")
    assert outfit.model_name == model_name
    assert [first.tryon.job.model_name, second.tryon.job.model_name] == [model_name] * 2
    top_picture = first.tryon.job.results.get()
    assert second.tryon.avatar_result == top_picture
    with top_picture.image.open("rb") as file:
        assert model_image_sent(engine, second.tryon.job) == file.read()


def test_an_outfit_stopped_for_credits_says_why_and_continues(
    live_server, new_page, start_worker, worker_env, engine, alice, settings
):
    engine.configure(processing_seconds=0.3)
    worker_env["AVATAR_DAILY_CREDITS"] = "50"
    start_worker()
    avatar = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    products = [Product.objects.get(slug=TOP), Product.objects.get(slug=BOTTOMS)]
    outfit = services.start_outfit(alice, avatar.results.get(), products)
    # Alice spends the rest of her allowance elsewhere while the top is being made.
    spend(alice, 50)
    settings.AVATAR_DAILY_CREDITS = 50
    bottoms_step = outfit.steps.get(order=2)
    wait_for(
        lambda: OutfitStep.objects.get(pk=bottoms_step.pk).not_started_because,
        message="the bottoms to be refused when the top is on",
    )

    page = new_page(*SIZES["desktop"])
    log_in(page, live_server.url, "login", "alice", "alice-password-1")
    expect(page.locator("text=Log out")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('shop:outfit', args=[outfit.pk])}")
    alert = page.locator("#outfit [role=alert]")
    expect(page.locator("#outfit")).to_have_attribute("data-status", "stopped")
    expect(alert).to_contain_text("stopped before the stone chinos.")
    expect(alert).to_contain_text("credits")
    page.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"outfits-stopped-01-{size}")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("text=Continue the outfit")  # still out of credits: told so, nothing started
    expect(page.locator(".flash")).to_contain_text("used all")
    assert OutfitStep.objects.get(pk=bottoms_step.pk).tryon is None

    settings.AVATAR_DAILY_CREDITS = 10000  # the allowance was raised (or a new day began)
    page.click("text=Continue the outfit")
    expect(page.locator("#outfit")).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator(".outfit-step img")).to_have_count(2)
    page.wait_for_function(ALL_IMAGES_LOADED)
    save_screenshot(page, "outfits-stopped-02-continued-desktop")
