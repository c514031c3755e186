"""Outfits: a top then bottoms (or one one-piece), each try-on dressing the picture of the one
before; refused combinations create nothing; only the shopper who made one may see it."""

import io
import uuid

import pytest
from django.urls import reverse
from django.utils.html import escape

from avatar_studio.avatars import quota
from avatar_studio.avatars.models import AvatarJob, AvatarResult
from avatar_studio.avatars.refusals import Refused
from avatar_studio.shop import images, selectors, services
from avatar_studio.shop.catalogue import DEMO_GARMENTS
from avatar_studio.shop.garments import garment_png
from avatar_studio.shop.models import (
    Outfit,
    OutfitStatus,
    OutfitStep,
    Product,
    ProductImage,
    TryOn,
)
from offline_engine.tryon.garment import cut_out

from ..support.credits import spend
from ..support.garments import png_bytes, trousers
from ..support.jobs import make_finished_job
from .test_looks import finish_with_picture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_store")]

TOP = "essential-crew-tee"


def make_bottoms(slug="indigo-trousers", *, published=True):
    product = Product.objects.create(
        name="Indigo trousers", slug=slug, price=49, category="bottoms", is_published=published
    )
    png = images.normalise_garment(io.BytesIO(png_bytes(trousers())))
    services.store_photo(ProductImage(product=product), png)
    return product


def counts():
    return (
        Outfit.objects.count(),
        OutfitStep.objects.count(),
        TryOn.objects.count(),
        AvatarJob.objects.count(),
    )


@pytest.mark.parametrize(
    ("slugs", "code"),
    [
        ([TOP, "breton-stripe-tee"], "outfit_combination"),
        ([TOP], "outfit_combination"),
        (["poppy-sundress", TOP], "outfit_one_piece_alone"),
        ([TOP, "hidden-trousers"], "product_unavailable"),
        ([TOP, "no-such-product"], "product_unavailable"),
    ],
)
def test_a_combination_that_is_not_an_outfit_is_refused_and_creates_nothing(alice, slugs, code):
    make_bottoms("hidden-trousers", published=False)
    avatar = make_finished_job(alice).results.get()
    before = counts()

    with pytest.raises(Refused) as refused:
        services.start_outfit(alice, avatar, selectors.products_by_slug(slugs))

    assert refused.value.reason.code == code
    assert counts() == before


def test_an_avatar_the_shopper_may_not_wear_is_refused_and_creates_nothing(alice, bob):
    bottoms = make_bottoms()
    avatar = make_finished_job(alice).results.get()
    before = counts()

    with pytest.raises(Refused) as refused:
        services.start_outfit(bob, avatar, [Product.objects.get(slug=TOP), bottoms])

    assert refused.value.reason.code == "avatar_not_wearable"
    assert counts() == before


def test_the_browser_shows_a_refusal_as_a_message_and_creates_nothing(client, alice):
    avatar = make_finished_job(alice).results.get()
    client.force_login(alice)
    before = counts()

    response = client.post(
        reverse("shop:outfit-start"),
        {"avatar": avatar.pk, "product": [TOP, "poppy-sundress"]},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("shop:product", args=[TOP])
    assert "A one-piece is worn on its own" in response.content.decode()
    assert counts() == before


def test_the_outfit_starts_with_the_top_and_only_its_shopper_sees_it(client, alice, bob):
    bottoms = make_bottoms()
    avatar = make_finished_job(alice).results.get()
    client.force_login(alice)

    response = client.post(
        reverse("shop:outfit-start"), {"avatar": avatar.pk, "product": [bottoms.slug, TOP]}
    )

    outfit = Outfit.objects.get()
    assert response["Location"] == reverse("shop:outfit", args=[outfit.pk])
    first, second = outfit.steps.all()
    assert (first.product.slug, second.product.slug) == (TOP, bottoms.slug)
    assert first.tryon.avatar_result == avatar and second.tryon is None
    page = client.get(response["Location"]).content.decode()
    assert "Essential crew tee" in page and "Starts once the garment before it is on" in page

    client.force_login(bob)
    assert client.get(reverse("shop:outfit", args=[outfit.pk])).status_code == 404
    image = reverse("shop:outfit-step-image", args=[outfit.pk, 1])
    assert client.get(image).status_code == 404
    assert client.get(reverse("shop:outfit", args=[uuid.uuid4()])).status_code == 404


def test_a_top_page_offers_bottoms_for_an_outfit(client, alice):
    make_bottoms()
    make_finished_job(alice)
    client.force_login(alice)

    page = client.get(reverse("shop:product", args=[TOP])).content.decode()

    assert "Make an outfit" in page and "Indigo trousers" in page
    assert AvatarResult.objects.exists()


def test_the_demo_store_has_bottoms_to_make_an_outfit_with(client, alice):
    """``loaddemo`` alone (no product added by staff) gives a store where a top's page offers
    the demo bottoms, and the bottoms' page offers the tops."""
    make_finished_job(alice)
    client.force_login(alice)

    top = client.get(reverse("shop:product", args=[TOP])).content.decode()
    chinos = client.get(reverse("shop:product", args=["stone-chinos"])).content.decode()

    assert "Make an outfit" in top and "Add bottoms" in top
    assert "Stone chinos" in top and "Pleated midi skirt" in top
    assert "Add a top" in chinos and "Essential crew tee" in chinos
    assert "Poppy sundress" not in chinos  # a one-piece is worn alone


def test_the_demo_trousers_read_as_trousers_to_a_try_on():
    """The drawn chinos have two legs apart below the crotch: what a try-on that guesses the
    garment's kind from its photo (tryon-max takes no category) needs to see bottoms."""
    [chinos] = [garment for garment in DEMO_GARMENTS if garment.slug == "stone-chinos"]

    assert cut_out(garment_png(chinos)).kind == "bottoms"


def test_a_step_starts_once_however_often_its_predecessor_is_announced(alice):
    bottoms = make_bottoms()
    top = Product.objects.get(slug=TOP)
    avatar = make_finished_job(alice).results.get()
    outfit = services.start_outfit(alice, avatar, [top, bottoms])
    top_job = outfit.steps.get(order=1).tryon.job
    finish_with_picture(top_job)
    jobs_before = AvatarJob.objects.count()

    services.on_job_finished(None, job_id=top_job.pk, status="completed")
    services.on_job_finished(None, job_id=top_job.pk, status="completed")

    assert AvatarJob.objects.count() == jobs_before + 1
    second = outfit.steps.get(order=2)
    assert second.tryon.avatar_result == top_job.results.get()
    # Another outfit of the same garments reuses both try-ons: the top's done, the bottoms'
    # started at once on its picture.
    again = services.start_outfit(alice, avatar, [top, bottoms])
    assert [step.tryon for step in again.steps.all()] == [top_job.tryon, second.tryon]
    assert AvatarJob.objects.count() == jobs_before + 1


def _stopped_at_the_bottoms(alice, settings):
    """An outfit whose top is on but whose bottoms could not start: the shopper spent the rest
    of their allowance elsewhere while the top was being made."""
    settings.AVATAR_DAILY_CREDITS = 20
    bottoms = make_bottoms()
    avatar = make_finished_job(alice).results.get()
    outfit = services.start_outfit(alice, avatar, [Product.objects.get(slug=TOP), bottoms])
    top_job = outfit.steps.get(order=1).tryon.job
    spend(alice, quota.left_today(alice))
    finish_with_picture(top_job)
    services.on_job_finished(None, job_id=top_job.pk, status="completed")
    return outfit, top_job


def test_bottoms_that_could_not_start_stop_the_outfit_and_its_page_says_why(
    client, alice, settings
):
    outfit, _top_job = _stopped_at_the_bottoms(alice, settings)

    bottoms_step = outfit.steps.get(order=2)
    assert bottoms_step.tryon is None
    assert "credits" in bottoms_step.not_started_because
    assert selectors.outfit_status(selectors.outfit_steps(outfit)) == OutfitStatus.STOPPED
    client.force_login(alice)
    page = client.get(reverse("shop:outfit", args=[outfit.pk])).content.decode()
    assert 'data-status="stopped"' in page
    assert "hx-trigger" not in page  # the page stops asking: nothing will change by itself
    assert escape(bottoms_step.not_started_because) in page
    assert reverse("shop:outfit-continue", args=[outfit.pk]) in page


def test_a_stopped_outfit_continues_once_credits_are_back_and_not_before(client, alice, settings):
    outfit, top_job = _stopped_at_the_bottoms(alice, settings)
    client.force_login(alice)
    continue_url = reverse("shop:outfit-continue", args=[outfit.pk])
    jobs_before = AvatarJob.objects.count()

    still_out = client.post(continue_url, follow=True)

    assert "used all" in still_out.content.decode()
    assert AvatarJob.objects.count() == jobs_before
    assert outfit.steps.get(order=2).tryon is None

    settings.AVATAR_DAILY_CREDITS = 40  # the allowance was raised (or a new day began)
    response = client.post(continue_url)

    assert response.status_code == 302
    assert response["Location"] == reverse("shop:outfit", args=[outfit.pk])
    bottoms_step = outfit.steps.get(order=2)
    assert bottoms_step.tryon.avatar_result == top_job.results.get()  # over the top's picture
    assert bottoms_step.not_started_because == ""
    assert AvatarJob.objects.count() == jobs_before + 1
    assert outfit.steps.get(order=1).tryon.job == top_job  # the top is not made again
    assert selectors.outfit_status(selectors.outfit_steps(outfit)) == OutfitStatus.PROCESSING


def test_an_outfit_that_has_not_stopped_is_not_continued(alice):
    avatar = make_finished_job(alice).results.get()
    outfit = services.start_outfit(alice, avatar, [Product.objects.get(slug=TOP), make_bottoms()])
    before = counts()

    with pytest.raises(Refused) as refused:
        services.continue_outfit(alice, outfit)

    assert refused.value.code == "outfit_not_stopped"
    assert counts() == before


def test_only_the_outfits_shopper_may_continue_it(client, alice, bob, settings):
    outfit, _top_job = _stopped_at_the_bottoms(alice, settings)
    settings.AVATAR_DAILY_CREDITS = 40
    client.force_login(bob)

    assert client.post(reverse("shop:outfit-continue", args=[outfit.pk])).status_code == 404
    assert client.get(reverse("shop:outfit-continue", args=[outfit.pk])).status_code in (404, 405)
    assert outfit.steps.get(order=2).tryon is None
