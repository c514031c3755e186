"""Staff review in a real browser: a reviewer logs in to the admin, works the review queue
(approve, reject with a reason) and opens the operations dashboard.

Avatars are made for real by a Celery worker on the offline engine, so the thumbnails are real.
Screenshots land in ``test-artifacts/screenshots/admin-*.png`` for people to look at.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars import selectors
from avatar_studio.avatars.models import AvatarJob, ReviewState
from avatar_studio.avatars.review import services as review

from ..support.browser import save_screenshot as screenshot
from ..support.jobs import make_finished_job, make_job, wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# True if a change list's table fits its page: no column is scrolled out of sight.
LIST_FITS = (
    "() => { const results = document.querySelector('.results');"
    " return results.scrollWidth <= results.clientWidth; }"
)


@pytest.fixture
def page(new_page):
    return new_page(width=1600)


@pytest.fixture
def avatars(start_worker, engine, alice, bob):
    """Four real avatars (three offered for display), two failures and one job still queued."""
    engine.configure(processing_seconds=0.3)
    start_worker()
    prompts = ["athletic build", "slim build", "curvy figure", "broad shoulders"]
    owners = [alice, bob, alice, bob]
    jobs = [make_job(owner, prompt=prompt) for owner, prompt in zip(owners, prompts, strict=True)]
    jobs = [wait_until_finished(job) for job in jobs]
    for job in jobs[:3]:
        review.offer_for_display(job)
    make_finished_job(alice, status="failed", error_name="ContentModerationError")
    make_finished_job(bob, status="failed", error_name="PipelineError")
    # A slow prediction: still running while the reviewer looks at the dashboard.
    engine.configure(processing_seconds=600)
    make_job(alice, prompt="petite frame")
    return jobs


def log_in(page, base, username, password):
    page.goto(f"{base}{reverse('admin:login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def select_rows(page, jobs):
    for job in jobs:
        page.check(f"input[name=_selected_action][value='{job.pk}']")


def test_a_reviewer_works_the_queue_and_reads_the_dashboard(live_server, page, reviewer, avatars):
    approve, reject, _stay_pending = avatars[:3]
    log_in(page, live_server.url, "rita", "rita-password-1")
    expect(page.locator(".operations-module")).to_contain_text("Review queue")

    page.click(".operations-module >> text=Review queue")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    thumbnail = page.locator("#result_list img.job-thumb").nth(1)
    expect(thumbnail).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    screenshot(page, "admin-01-review-queue")

    select_rows(page, [approve])
    page.select_option("select[name=action]", "approve_for_display")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Approved 1 job.")
    expect(rows).to_have_count(2)

    select_rows(page, [reject])
    page.select_option("select[name=action]", "reject_for_display")
    page.click("button[name=index]")
    page.fill("#id_reason", "The face is cut off at the top; use a photo with your whole head.")
    screenshot(page, "admin-02-reject-with-reason")
    page.click("input[name=apply]")
    expect(page.locator(".messagelist")).to_contain_text("Rejected 1 job.")
    expect(rows).to_have_count(1)

    page.goto(f"{live_server.url}{reverse('admin:avatars_avatarjob_changelist')}")
    expect(page.locator("#result_list tbody tr")).to_have_count(7)
    screenshot(page, "admin-03-job-list")
    # Every column fits a 1600 px screen: nothing (the Created column last) is scrolled away.
    assert page.evaluate(LIST_FITS), "the job list is wider than the page"

    page.click(f"text={str(reject.pk)[:8]}")
    expect(page.locator(".inline-group").first).to_contain_text("FASHN time")
    expect(page.locator(".field-review_reason")).to_contain_text("whole head")
    screenshot(page, "admin-04-job-page")

    page.click(".breadcrumbs >> text=Avatar jobs")
    page.click("text=Operations dashboard")
    expect(page.locator("#jobs-by-status svg")).to_be_visible()
    # 10 000 less four avatars at FASHN's price for a balanced 1k image (2 credits each)
    expect(page.locator("#credit-balance")).to_have_text("9992")
    expect(page.locator("#pending-review")).to_have_text("1")
    expect(page.locator("#failures")).to_contain_text("ContentModerationError")
    expect(page.locator("#running-and-review")).to_contain_text("by alice")
    screenshot(page, "admin-05-dashboard")

    assert AvatarJob.objects.get(pk=approve.pk).review_state == ReviewState.APPROVED
    assert AvatarJob.objects.get(pk=reject.pk).review_state == ReviewState.REJECTED
    assert [job.pk for job in selectors.approved_public_avatars()] == [approve.pk]
