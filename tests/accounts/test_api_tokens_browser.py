"""The account page's API token in a real browser: create it, see the key once, revoke it."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from ..support.browser import save_screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("main form button[type=submit]")
    expect(page.locator("a", has_text="Account")).to_be_visible()


@pytest.mark.parametrize("size", [(1200, 900), (390, 844)], ids=["desktop", "phone"])
def test_create_copy_and_revoke_a_token(live_server, new_page, alice, size):
    page = new_page(*size)
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('account')}")

    page.click("text=Create an API token")

    key_box = page.locator("#new-api-token")
    expect(key_box).to_be_visible()
    key = key_box.input_value()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
    name = "desktop" if size[0] > 600 else "phone"
    save_screenshot(page, f"account-api-token-created-{name}")
    # Nothing sticks out of a phone's screen, however long the key.
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    assert Client().get("/api/v1/avatars/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    page.goto(f"{live_server.url}{reverse('account')}")
    expect(page.locator("#new-api-token")).to_have_count(0)
    save_screenshot(page, f"account-api-token-exists-{name}")
    page.click("text=Revoke")
    expect(page.get_by_text("Your API token is revoked")).to_be_visible()
    assert Client().get("/api/v1/avatars/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
