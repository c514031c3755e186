"""Download my data in a real browser: the button on the account page gives a zip of the user's
avatar, made by the real pipeline."""

import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus

from ..support.browser import save_screenshot
from ..support.jobs import make_job, wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _log_in(page, base):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("main form button[type=submit]")
    expect(page.locator("a", has_text="Account")).to_be_visible()


@pytest.fixture
def avatar(start_worker, engine, alice):
    engine.configure(processing_seconds=0.2)
    start_worker()
    job = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    assert job.status == JobStatus.COMPLETED
    return job


@pytest.mark.parametrize("size", [(1200, 900), (390, 844)], ids=["desktop", "phone"])
def test_download_my_data_from_the_account_page(live_server, new_page, avatar, tmp_path, size):
    page = new_page(*size)
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('account')}")
    button = page.get_by_role("button", name="Download my data")
    expect(button).to_be_visible()
    expect(page.get_by_role("heading", name="Download my data")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    name = "desktop" if size[0] > 600 else "phone"
    save_screenshot(page, f"account-data-export-{name}")

    with page.expect_download() as download_info:
        button.click()
    download = download_info.value

    assert download.suggested_filename.startswith("avatar-studio-data-")
    assert download.suggested_filename.endswith(".zip")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        data = json.loads(archive.read("data.json"))
        image = archive.read(f"avatars/{avatar.pk}/image-0.jpg")
        assert "README.txt" in archive.namelist()
    assert [job["id"] for job in data["jobs"]] == [str(avatar.pk)]
    with default_storage.open(avatar.results.get().image.name, "rb") as stored:
        assert image == stored.read()
    # The page stays as it was: a download, not a navigation.
    expect(button).to_be_visible()


@pytest.mark.parametrize("size", [(1200, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_download_past_the_limit_says_when_to_try_again(
    live_server, new_page, alice, settings, fresh_cache, size
):
    settings.ACCOUNT_DATA_EXPORTS_PER_WINDOW = 0
    page = new_page(*size)
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('account')}")
    downloads = []
    page.on("download", lambda download: downloads.append(download))

    page.get_by_role("button", name="Download my data").click()

    expect(page.get_by_text("You have downloaded your data several times")).to_be_visible()
    expect(page.get_by_text("Try again in")).to_be_visible()
    assert downloads == []
    name = "desktop" if size[0] > 600 else "phone"
    save_screenshot(page, f"account-data-export-limited-{name}")
