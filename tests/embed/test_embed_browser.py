"""The button on a shop's own site, in Chromium: a second web server on another loopback port
stands in for the shop, and loads button.js from the live server. The shopper clicks, logs in
inside the popup, picks an avatar with the keyboard alone, watches the try-on finish (real
worker, offline engine), and the shop's page hears "done", from us, and nothing more."""

import http.server
import threading
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus
from avatar_studio.embed.models import EmbedLook, Shop
from avatar_studio.shop.models import Look

from ..support.browser import save_screenshot
from ..support.jobs import make_job, wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Corner Boutique</title>
<script src="{base}/static/embed/button.js" data-key="{key}" async></script></head>
<body><h1>Linen shirt</h1>
<button data-avatar-studio-tryon data-garment-image="{garment}" data-garment-name="Linen shirt"
        data-garment-category="tops">See it on me</button>
<script>
  window.heard = [];
  window.addEventListener("message", function (e) {{ heard.push([e.origin, e.data]); }});
  document.addEventListener("avatar-studio:done", function () {{
    document.body.dataset.done = "yes";
  }});
</script></body></html>"""


class ShopSite:
    """A shop's page on its own loopback port: one HTML page, nothing else."""

    def __init__(self, page):
        body = page.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop_site(live_server, garment_host, fetch_policy):
    # The live server is on "localhost": the shop's 127.0.0.1 is another origin, as a shop is.
    assert urlsplit(live_server.url).hostname != "127.0.0.1"
    shop = Shop.objects.create(name="Corner Boutique", allowed_origins="https://shop.example")
    site = ShopSite(
        SHOP_PAGE.format(base=live_server.url, key=shop.key, garment=garment_host.url("/shirt.png"))
    )
    shop.allowed_origins = f"https://shop.example\nhttp://127.0.0.1:{site.port}"
    shop.save()
    yield site
    site.close()


@pytest.fixture
def alices_avatar(start_worker, engine, alice):
    engine.configure(processing_seconds=0.5)
    start_worker()
    avatar = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    return avatar


def tab_to(page, selector, limit=40):
    """Press Tab until ``selector`` has the focus: it is reachable by keyboard alone."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_shopper_tries_on_from_a_shops_site(
    live_server, new_page, shop_site, alices_avatar, alice, viewport
):
    name = "desktop" if viewport[0] > 400 else "phone"
    shop_page = new_page(*viewport)
    shop_page.goto(f"http://127.0.0.1:{shop_site.port}/")
    shop_page.wait_for_function("() => document.querySelector('script[data-key]') !== null")

    with shop_page.expect_popup() as opened:
        shop_page.click("text=See it on me")
    window = opened.value
    window.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    expect(window.locator("h1")).to_have_text("See the Linen shirt on you")
    save_screenshot(window, f"embed-01-sign-in-{name}")

    window.locator("main").get_by_role("link", name="Log in", exact=True).click()
    window.fill("#id_username", "alice")
    window.fill("#id_password", "alice-password-1")
    window.keyboard.press("Enter")
    expect(window.locator("legend")).to_have_text("Choose one of your avatars")
    window.wait_for_function("() => [...document.images].every(i => i.complete)")
    save_screenshot(window, f"embed-02-choose-{name}")

    # Keyboard alone: the avatar (checked already), the consent box, the button.
    tab_to(window, "input[name=consent]")
    window.keyboard.press("Space")
    tab_to(window, "form button[type=submit]")
    window.keyboard.press("Enter")

    expect(window.locator("#look[data-status=completed]")).to_be_visible(timeout=30_000)
    picture = window.locator("#look img.look-image")
    window.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    save_screenshot(window, f"embed-03-done-{name}")

    expect(shop_page.locator("body[data-done=yes]")).to_be_attached()
    heard = shop_page.evaluate("window.heard")
    assert heard == [[live_server.url, {"type": "avatar-studio:done"}]]
    look = Look.objects.get()
    assert look.shopper == alice
    assert EmbedLook.objects.get().origin == f"http://127.0.0.1:{shop_site.port}"


def test_an_unregistered_origin_is_refused(live_server, new_page, shop_site):
    # The same page at another origin (localhost is not on the shop's list).
    shop_page = new_page()
    shop_page.goto(f"http://localhost:{shop_site.port}/")
    shop_page.wait_for_function("() => document.querySelector('script[data-key]') !== null")

    with shop_page.expect_popup() as opened:
        shop_page.click("text=See it on me")
    window = opened.value

    expect(window.locator("h1")).to_have_text("This try-on cannot start")
    expect(window.locator("[role=alert]")).to_contain_text("did not register")
    save_screenshot(window, "embed-04-refused")
    assert not EmbedLook.objects.exists()
