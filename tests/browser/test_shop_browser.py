"""The demo store in a real browser: a shopper sees a garment on their own avatar and on a model."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.review import services as review
from avatar_studio.shop.catalogue import DEMO_GARMENTS
from avatar_studio.shop.models import TryOn

from ..support.jobs import make_job, wait_until_finished

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]


@pytest.fixture
def avatars(start_worker, engine, alice, bob, staff):
    """Alice's own avatar, and Bob's avatar shared as a model: both made by the real pipeline."""
    engine.configure(processing_seconds=0.5)
    start_worker()
    own = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    model = wait_until_finished(make_job(bob, prompt="curvy figure", output_format="jpeg"))
    assert own.status == model.status == JobStatus.COMPLETED
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    return own, model


def log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("form button[type=submit]")
    expect(page.locator("text=Log out")).to_be_visible()


def see_the_look(page, button, screenshot_name, screenshot):
    page.evaluate("window.__sameDocument = true")
    page.click(f"button:has-text('{button}')")
    expect(page.locator("#look")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#look[data-status=completed]")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped the panel in place
    picture = page.locator("#look img.look-image")
    loaded = "img => img.complete && img.naturalWidth > 0"
    page.wait_for_function(loaded, arg=picture.element_handle())
    expect(page.locator("#look .ai-label")).to_have_text("AI-generated")
    screenshot(page, screenshot_name)


def test_a_shopper_sees_a_garment_on_herself_and_on_a_model(
    live_server, new_page, screenshot, avatars
):
    page = new_page(width=1280, height=1000)
    log_in(page, live_server.url)

    page.click("nav >> text=Shop")
    expect(page.locator(".product-card")).to_have_count(len(DEMO_GARMENTS))
    all_loaded = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    page.wait_for_function(all_loaded)
    screenshot(page, "shop-01-catalogue")

    page.click("text=Sunset logo tee")
    expect(page.locator("h1")).to_have_text("Sunset logo tee")
    expect(page.locator("#on-me ~ form .pick")).to_have_count(1)
    expect(page.locator("#on-model ~ form .pick")).to_have_count(1)
    screenshot(page, "shop-02-product")

    see_the_look(page, "See it on me", "shop-03-on-me", screenshot)
    expect(page.locator("#look h2")).to_have_text("Sunset logo tee on your avatar")

    see_the_look(page, "See it on a model", "shop-04-on-a-model", screenshot)
    expect(page.locator("#look h2")).to_have_text("Sunset logo tee on a model")


def test_a_visitor_is_asked_to_log_in_before_trying_on(live_server, new_page):
    page = new_page()
    page.goto(f"{live_server.url}{reverse('shop:product', args=['forest-hoodie'])}")

    page.click("text=Log in to see it on you")

    expect(page).to_have_url(
        f"{live_server.url}{reverse('login')}?next=/shop/products/forest-hoodie/"
    )


@pytest.mark.parametrize(
    ("width", "height", "suffix"), [(1280, 1000, "desktop"), (390, 844, "phone")]
)
def test_a_shopper_chooses_the_premium_try_on_and_sees_its_cost(
    live_server, new_page, screenshot, avatars, width, height, suffix
):
    page = new_page(width=width, height=height)
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('shop:product', args=['sunset-logo-tee'])}")

    choice = page.locator("#on-me ~ form .tryon-choice")
    standard = choice.get_by_label("Standard try-on (tryon-v1.6, 1 credit)")
    premium = choice.get_by_label("Premium try-on (tryon-max, 4 credits)")
    expect(standard).to_be_checked()
    premium.check()
    screenshot(page, f"shop-05-premium-choice-{suffix}")

    see_the_look(page, "See it on me", f"shop-06-premium-look-{suffix}", screenshot)
    expect(page.locator("#look h2")).to_have_text("Sunset logo tee on your avatar")
    expect(page.locator("#look")).to_contain_text("Premium try-on (tryon-max)")
    expect(premium).to_be_checked()  # the page remembers the choice for the next try-on
    [tryon] = TryOn.objects.all()
    assert tryon.model_name == "tryon-max"
    assert tryon.job.attempts.get().credits_used == 4
