"""A visitor without an account sees what Avatar Studio makes: the showcase, and examples on the
landing page and in the store; an owner's withdrawal takes their avatar off all of them."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.review import services as review

from ..support.jobs import make_job, wait_until_finished

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
ALL_LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


@pytest.fixture
def shown(start_worker, engine, alice, bob, staff):
    """Three of Bob's avatars made by the real pipeline and approved; a private one of Alice's."""
    engine.configure(processing_seconds=0.2)
    start_worker()
    builds = [("athletic build", "2:3"), ("curvy figure", "3:4"), ("slim build", "2:3")]
    jobs = [
        make_job(bob, prompt=prompt, aspect_ratio=ratio, output_format="jpeg")
        for prompt, ratio in builds
    ]
    private = make_job(alice, prompt="private build", output_format="jpeg")
    jobs = [wait_until_finished(job) for job in jobs]
    assert wait_until_finished(private).status == JobStatus.COMPLETED
    for job in jobs:
        assert job.status == JobStatus.COMPLETED
        review.offer_for_display(job)
        review.approve(job, reviewer=staff)
    return jobs


def _look(page, url, name, screenshot, pictures):
    page.goto(url)
    expect(page.locator(".showcase-grid img")).to_have_count(pictures)
    for image in page.locator(".showcase-grid img").all():
        image.scroll_into_view_if_needed()  # the showcase's pictures load lazily
    page.wait_for_function(ALL_LOADED)
    expect(page.locator(".showcase-grid .ai-label").first).to_have_text("AI-generated")
    screenshot(page, name)


def test_a_visitor_sees_the_showcase_and_the_examples(live_server, new_page, screenshot, shown):
    base = live_server.url
    for size, (width, height) in SIZES.items():
        page = new_page(width=width, height=height)
        _look(page, f"{base}/", f"showcase-01-landing-{size}", screenshot, 3)
        expect(page.locator("text=What Avatar Studio makes")).to_be_visible()
        _look(
            page, f"{base}{reverse('shop:catalogue')}", f"showcase-02-store-{size}", screenshot, 3
        )
        page.click(".examples >> text=See the showcase")
        expect(page.locator("h1")).to_have_text("Showcase")
        _look(page, page.url, f"showcase-03-showcase-{size}", screenshot, 3)
        assert "bob" not in page.content()
        page.click("text=Make your own: create a free account")
        expect(page).to_have_url(f"{base}{reverse('signup')}")


def test_an_owner_withdraws_and_the_visitor_no_longer_sees_it(
    live_server, new_page, screenshot, shown, bob
):
    base = live_server.url
    visitor = new_page()
    _look(visitor, f"{base}{reverse('avatars:showcase')}", "showcase-04-before", lambda *a: None, 3)
    picture = visitor.locator(".showcase-grid img").first.get_attribute("src")

    owner = new_page()
    owner.goto(f"{base}{reverse('login')}")
    owner.fill("#id_username", "bob")
    owner.fill("#id_password", "bob-password-1")
    owner.click("form button[type=submit]")
    owner.goto(f"{base}{reverse('avatars:job', args=[shown[-1].pk])}")
    expect(owner.locator("#showcase")).to_contain_text("anyone on the web")
    owner.locator("#showcase").scroll_into_view_if_needed()
    screenshot(owner, "showcase-06-job-page-approved")
    owner.click("text=Remove it from the showcase")
    expect(owner.locator("#showcase button")).to_have_text("Offer for the showcase")
    expect(owner.locator("text=gone from the showcase")).to_be_visible()
    screenshot(owner, "showcase-07-job-page-withdrawn")

    visitor.reload()
    expect(visitor.locator(".showcase-grid img")).to_have_count(2)
    assert visitor.request.get(f"{base}{picture}").status == 404


def test_with_nothing_shown_a_visitor_sees_no_broken_pictures(live_server, new_page, screenshot):
    base = live_server.url
    page = new_page(width=390, height=844)
    for url in ("/", reverse("shop:catalogue")):
        page.goto(f"{base}{url}")
        expect(page.locator(".examples")).to_have_count(0)
        page.wait_for_function(ALL_LOADED)
    page.goto(f"{base}{reverse('avatars:showcase')}")
    expect(page.locator(".empty")).to_contain_text("No avatars are shown yet")
    screenshot(page, "showcase-05-empty-phone")
    page.click("text=Who sees a shown avatar, and how to take it back")
    expect(page.locator("#showcase")).to_contain_text("anyone on the web")
    screenshot(page, "showcase-08-privacy-phone")
