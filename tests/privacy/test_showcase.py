"""The public showcase and the examples for visitors: approved avatars only, the picture only,
gone the moment they may no longer be shown; and the words that tell owners so."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarResult, result_path
from avatar_studio.avatars.review import services as review
from avatar_studio.avatars.showcase import EXAMPLE_COUNT, SHOWCASE_PAGE_SIZE

from ..support.jobs import make_finished_job

pytestmark = pytest.mark.django_db

SHOWCASE = reverse("avatars:showcase")
SECRET_PROMPT = "tall with a scar on the left arm"


def _jpeg(colour):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def _with_thumbnail(job, colour=(90, 120, 200)):
    """Give the job's stored thumbnail real JPEG bytes (the shared helper stores an empty file)."""
    result = job.results.get()
    default_storage.delete(result.thumbnail.name)
    result.thumbnail.name = default_storage.save(result.thumbnail.name, ContentFile(_jpeg(colour)))
    result.save(update_fields=["thumbnail"])
    return job


def _owner(name):
    return get_user_model().objects.create_user(
        name, email=f"{name}@example.org", password=f"{name}-password-1"
    )


def _avatar(owner, state, reviewer):
    """A completed avatar of ``owner`` in review ``state``."""
    job = _with_thumbnail(make_finished_job(owner, prompt=SECRET_PROMPT))
    if state == "private":
        return job
    review.offer_for_display(job)
    if state in ("approved", "rejected", "withdrawn"):
        review.approve(job, reviewer=reviewer)
    if state == "rejected":
        review.reject(job, reviewer=reviewer, reason="Not a clear face.")
    if state == "withdrawn":
        review.withdraw_from_display(job)
    return job


def _image_url(job, index=0):
    return reverse("avatars:showcase-image", args=[job.results.get(index=index).pk])


def _images_on(html):
    return set(re.findall(r'src="(/showcase/\d+/image/)"', html))


@pytest.fixture
def zebulon():
    return _owner("zebulon-owner")


@pytest.fixture
def shown(zebulon, staff):
    return _avatar(zebulon, "approved", staff)


def test_the_showcase_shows_approved_avatars_only_and_their_pictures_only_while_approved(
    client, staff, shown
):
    others = {
        state: _avatar(_owner(f"owner-{state}"), state, staff)
        for state in (
            "private",
            "pending",
            "rejected",
            "withdrawn",
        )
    }
    inactive = _avatar(_owner("gone-owner"), "approved", staff)
    inactive.owner.is_active = False
    inactive.owner.save()
    others["inactive owner"] = inactive

    page = client.get(SHOWCASE)

    assert page.status_code == 200
    assert _images_on(page.content.decode()) == {_image_url(shown)}
    picture = client.get(_image_url(shown))
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/jpeg"
    assert b"".join(picture.streaming_content) == shown.results.get().thumbnail.read()
    for state, job in others.items():
        assert client.get(_image_url(job)).status_code == 404, state


@pytest.mark.parametrize(
    "take_back",
    [
        pytest.param(review.withdraw_from_display, id="withdrawn by its owner"),
        pytest.param(
            lambda job: review.reject(job, reviewer=job.reviewed_by, reason="Not ours."),
            id="taken down by staff",
        ),
        pytest.param(services.delete_avatar, id="deleted"),
        pytest.param(
            lambda job: job.owner.__class__.objects.filter(pk=job.owner_id).update(is_active=False),
            id="owner deactivated",
        ),
    ],
)
def test_an_avatar_taken_back_is_gone_at_once(client, shown, take_back):
    url = _image_url(shown)
    first = client.get(url)
    assert first.status_code == 200
    # Nothing may keep a copy that would outlive the withdrawal.
    assert first["Cache-Control"] == "no-store"
    assert client.get(SHOWCASE)["Cache-Control"] == "no-cache"

    take_back(shown)

    assert client.get(url).status_code == 404
    assert _images_on(client.get(SHOWCASE).content.decode()) == set()
    assert _images_on(client.get(reverse("avatars:upload")).content.decode()) == set()
    assert _images_on(client.get(reverse("shop:catalogue")).content.decode()) == set()


def test_only_the_picture_that_stands_for_the_avatar_is_public(client, shown):
    first = shown.results.get()
    second = AvatarResult.objects.create(
        job=shown,
        index=1,
        image=default_storage.save(result_path(shown, "1-1.jpg"), ContentFile(_jpeg((1, 2, 3)))),
        thumbnail=default_storage.save(
            result_path(shown, "1-1-thumb.jpg"), ContentFile(_jpeg((1, 2, 3)))
        ),
        content_type="image/jpeg",
    )

    assert _images_on(client.get(SHOWCASE).content.decode()) == {
        reverse("avatars:showcase-image", args=[first.pk])
    }
    assert client.get(reverse("avatars:showcase-image", args=[second.pk])).status_code == 404


def test_public_pages_say_nothing_about_the_owner_or_the_job(client, zebulon, shown):
    for url in (SHOWCASE, reverse("avatars:upload"), reverse("shop:catalogue")):
        html = client.get(url).content.decode()
        assert _images_on(html) == {_image_url(shown)}, url
        for private in (
            "zebulon",
            zebulon.email,
            SECRET_PROMPT,
            str(shown.pk),
            shown.pk.hex,
            shown.results.get().thumbnail.name,
            "/selfie/",
        ):
            assert private not in html, (url, private)


def test_the_showcase_is_paginated_in_a_constant_number_of_queries(client, staff):
    owner = _owner("prolific")

    def queries_for(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    _avatar(owner, "approved", staff)
    with_one = queries_for(SHOWCASE)
    landing_with_one = queries_for(reverse("avatars:upload"))
    store_with_one = queries_for(reverse("shop:catalogue"))
    for _ in range(SHOWCASE_PAGE_SIZE + 2):
        _avatar(owner, "approved", staff)

    assert queries_for(SHOWCASE) == with_one
    first_page = client.get(SHOWCASE).content.decode()
    second_page = client.get(SHOWCASE + "?page=2").content.decode()
    assert len(_images_on(first_page)) == SHOWCASE_PAGE_SIZE
    assert len(_images_on(second_page)) == 3
    assert not _images_on(first_page) & _images_on(second_page)
    assert "Page 1 of 2" in first_page
    # The examples for visitors cost the landing page and the store no more with many approved.
    assert queries_for(reverse("avatars:upload")) == landing_with_one
    assert queries_for(reverse("shop:catalogue")) == store_with_one


def test_visitors_see_a_few_of_the_newest_approved_avatars_on_the_landing_page_and_in_the_store(
    client, staff
):
    owner = _owner("prolific")
    jobs = [_avatar(owner, "approved", staff) for _ in range(EXAMPLE_COUNT + 2)]
    newest = {_image_url(job) for job in jobs[-EXAMPLE_COUNT:]}

    for url in (reverse("avatars:upload"), reverse("shop:catalogue")):
        html = client.get(url).content.decode()
        assert _images_on(html) == newest, url
        assert "What Avatar Studio makes" in html
        assert f'href="{SHOWCASE}"' in html
        assert f'href="{reverse("signup")}"' in html


def test_with_nothing_approved_the_pages_show_no_examples_and_the_showcase_says_so(client, alice):
    _avatar(alice, "pending", None)

    for url in (reverse("avatars:upload"), reverse("shop:catalogue")):
        html = client.get(url).content.decode()
        assert "What Avatar Studio makes" not in html
        assert _images_on(html) == set()
    showcase = client.get(SHOWCASE).content.decode()
    assert _images_on(showcase) == set()
    assert "No avatars are shown yet" in showcase


def test_logged_in_shoppers_get_the_store_without_the_visitors_examples(client, alice, shown):
    client.force_login(alice)

    html = client.get(reverse("shop:catalogue")).content.decode()

    assert "What Avatar Studio makes" not in html


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_privacy_page_says_who_sees_a_shown_avatar_and_how_to_take_it_back(client):
    html = client.get(reverse("privacy")).content.decode()
    text = _text(html)

    assert f'href="{SHOWCASE}"' in html
    assert "anyone on the web" in text
    assert "every logged-in shopper" in text
    assert "examples on the home page and in the store" in text
    assert "its picture's address answers “not found”" in text
    assert "never shown to other users" not in text


def test_the_privacy_page_gives_the_size_of_the_picture_shown(client, settings):
    settings.AVATAR_THUMBNAIL_SIZE = (200, 300)

    assert "at most 200 × 300 pixels" in _text(client.get(reverse("privacy")).content.decode())


def test_the_buttons_the_privacy_page_names_are_those_on_the_job_page(client, alice, staff):
    privacy = _text(client.get(reverse("privacy")).content.decode())
    client.force_login(alice)
    job = _avatar(alice, "private", staff)

    def button_on_job_page():
        html = client.get(reverse("avatars:job", args=[job.pk])).content.decode()
        section = html.split('id="showcase"')[1]
        return re.search(r"<button[^>]*>([^<]+)</button>", section).group(1)

    offer = button_on_job_page()
    assert f"“{offer}”" in privacy
    assert (
        f'href="{SHOWCASE}"' in client.get(reverse("avatars:job", args=[job.pk])).content.decode()
    )
    review.offer_for_display(job)
    assert f"“{button_on_job_page()}”" in privacy  # withdraw the offer
    review.approve(job, reviewer=staff)
    assert f"“{button_on_job_page()}”" in privacy  # take it back


def test_withdrawing_from_the_job_page_takes_it_off_every_public_page(client, zebulon, shown):
    client.force_login(zebulon)
    url = _image_url(shown)

    page = client.post(reverse("avatars:showcase-withdraw", args=[shown.pk]), follow=True)

    assert "gone from the showcase" in page.content.decode()
    client.logout()
    assert client.get(url).status_code == 404
    assert _images_on(client.get(SHOWCASE).content.decode()) == set()
