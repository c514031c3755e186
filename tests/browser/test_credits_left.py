"""The upload page in Chromium: the credits left today beside the cost, and a request over them
refused with what to change, nothing stored."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import AvatarJob

from ..support.jobs import make_job

pytestmark = pytest.mark.django_db(transaction=True)

REFUSAL = (
    "This avatar needs 2 credits and 1 of your 3 credits is left today. Choose a quicker "
    "quality, a smaller image size or a lower number of images, or wait until the allowance "
    "resets at 00:00 UTC."
)


def _log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("form button[type=submit]")
    expect(page.locator("#upload-title")).to_be_visible()


@pytest.mark.parametrize(("width", "height", "name"), [(1200, 900, "desktop"), (390, 844, "phone")])
def test_the_credits_left_and_a_request_over_them(
    live_server, new_page, screenshot, alice, settings, selfie_path, width, height, name
):
    settings.AVATAR_DAILY_CREDITS = 3
    make_job(alice)  # 2 of the 3 credits
    page = new_page(width=width, height=height)
    _log_in(page, live_server.url)
    left = page.locator("#credits-left")
    expect(left).to_have_text("1 of 3 credits left today (resets at midnight UTC).")
    expect(page.locator("#cost")).to_have_text("This uses 2 credits")

    page.set_input_files("#id_face_image", str(selfie_path))
    page.check("#id_consent")
    page.click("form.upload-form button[type=submit]")

    expect(page.get_by_role("alert").first).to_have_text(REFUSAL)
    expect(left).to_have_text("1 of 3 credits left today (resets at midnight UTC).")
    assert AvatarJob.objects.filter(owner=alice).count() == 1
    screenshot(page, f"upload-credits-refused-{name}")

    page.get_by_label("Quick draft (about 20 s)").check()  # 1 credit: it fits
    expect(page.locator("#cost")).to_have_text("This uses 1 credit")
    page.set_input_files("#id_face_image", str(selfie_path))
    page.check("#id_consent")
    page.click("form.upload-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/avatars/[0-9a-f-]{36}/$"))
    assert AvatarJob.objects.filter(owner=alice).count() == 2
    page.goto(f"{live_server.url}{reverse('avatars:upload')}")
    expect(page.locator("#credits-left")).to_have_text(
        "0 of 3 credits left today (resets at midnight UTC)."
    )
    screenshot(page, f"upload-credits-used-up-{name}")
