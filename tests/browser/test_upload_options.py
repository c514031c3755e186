"""The upload page's quality, size and candidates in Chromium: the cost follows the choices, the
sizes follow the aspect ratio, and the protocol's options wait behind "Advanced"."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("form button[type=submit]")
    expect(page.locator("#upload-title")).to_be_visible()
    page.wait_for_load_state("load")  # the upload page's script has run


def _watch_csp(page):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text[:160])
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return violations


def test_choosing_options_changes_the_cost_and_advanced_opens(
    live_server, new_page, screenshot, alice, settings
):
    settings.AVATAR_MAX_RESOLUTION = "2k"
    page = new_page()
    violations = _watch_csp(page)
    _log_in(page, live_server.url)
    cost = page.locator("#cost")
    expect(cost).to_have_text("This uses 2 credits")  # balanced, 1k, one image
    expect(page.get_by_label("Extra large", exact=False)).to_have_count(0)  # 4k over the maximum
    screenshot(page, "upload-options-desktop")

    page.get_by_label("Best quality (about 2 min)").check()
    expect(cost).to_have_text("This uses 3 credits")
    page.get_by_label("Large (1664×2496 px)").check()
    expect(cost).to_have_text("This uses 4 credits")
    page.locator("label[for=id_num_images_2]").click()  # three images to choose from
    expect(cost).to_have_text("This uses 12 credits")
    page.get_by_label("Quick draft (about 20 s)").check()
    expect(cost).to_have_text("This uses 6 credits")

    page.locator("label[for=id_aspect_ratio_0]").click()  # 1:1
    expect(page.locator("[data-size='1k']")).to_have_text("Standard (1024×1024 px)")

    seed = page.locator("#id_seed")
    expect(seed).to_be_hidden()
    page.click("details.advanced > summary")
    expect(seed).to_be_visible()
    expect(page.get_by_label("File format")).to_be_visible()
    assert violations == []


def test_the_upload_page_at_phone_size(live_server, new_page, screenshot, alice):
    page = new_page(width=390, height=844)
    _log_in(page, live_server.url)
    page.click("details.advanced > summary")
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "upload-options-phone")
