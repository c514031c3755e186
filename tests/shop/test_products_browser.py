"""In Chromium: staff add a product with a photo in the admin, it appears in the store, and a
shopper tries it on through the store's usual flow (the real pipeline and offline engine)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus
from avatar_studio.shop.models import Product, TryOn

from ..support.browser import save_screenshot
from ..support.garments import png_bytes, tshirt
from ..support.jobs import make_job, wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
ALL_IMAGES_LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


@pytest.fixture
def own_avatar(start_worker, engine, alice):
    engine.configure(processing_seconds=0.3)
    start_worker()
    avatar = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    return avatar


def log_in(page, base, path, username, password):
    page.goto(f"{base}{reverse(path)}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form [type=submit]")


def test_staff_add_a_product_and_a_shopper_tries_it_on(
    live_server, new_page, django_user_model, alice, own_avatar, tmp_path
):
    django_user_model.objects.create_superuser("sam", "sam@example.com", "sam-password-1")
    photo = tmp_path / "teal-tee.png"
    photo.write_bytes(png_bytes(tshirt((20, 140, 130))))

    page = new_page(*SIZES["desktop"])
    log_in(page, live_server.url, "admin:login", "sam", "sam-password-1")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('admin:shop_product_add')}")
    page.fill("#id_name", "Teal pocket tee")
    page.fill("#id_price", "27.00")
    expect(page.locator("#id_slug")).to_have_value("teal-pocket-tee")  # filled from the name
    page.select_option("#id_category", "tops")
    page.fill("#id_description", "Heavy cotton with a chest pocket.")
    page.check("#id_is_published")
    page.set_input_files("#id_images-0-photo", str(photo))
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    preview = page.locator(".field-preview img").first
    expect(preview).to_be_visible()
    page.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        save_screenshot(page, f"products-01-admin-{size}")
    product = Product.objects.get(slug="teal-pocket-tee")
    assert product.is_published and product.images.count() == 1

    shopper = new_page(*SIZES["desktop"])
    log_in(shopper, live_server.url, "login", "alice", "alice-password-1")
    expect(shopper.locator("text=Log out")).to_be_visible()
    shopper.goto(f"{live_server.url}{reverse('shop:catalogue')}")
    card = shopper.locator(".product-card", has_text="Teal pocket tee")
    expect(card).to_be_visible()
    shopper.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        shopper.set_viewport_size({"width": width, "height": height})
        save_screenshot(shopper, f"products-02-store-{size}")
    shopper.set_viewport_size({"width": 1280, "height": 900})

    card.click()
    expect(shopper.locator("h1")).to_have_text("Teal pocket tee")
    shopper.click("button:has-text('See it on me')")
    expect(shopper.locator("#look[data-status=completed]")).to_be_visible(timeout=30_000)
    expect(shopper.locator("#look h2")).to_have_text("Teal pocket tee on your avatar")
    shopper.wait_for_function(ALL_IMAGES_LOADED)
    for size, (width, height) in SIZES.items():
        shopper.set_viewport_size({"width": width, "height": height})
        save_screenshot(shopper, f"products-03-tried-on-{size}")
    tryon = TryOn.objects.get()  # the try-on wears the photo staff uploaded
    assert tryon.garment_slug == f"teal-pocket-tee-{product.images.get().pk}"
    assert tryon.avatar_result == own_avatar.results.get()
