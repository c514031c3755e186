"""What a try-on costs: one home (``options.tryon_credits``) for the admin, the store and the
estimate of a try-on job; and whose allowance pays it: the shopper's who asked, as for an avatar
(``quota.reservation``), nothing for a repeat, again for a retry."""

import pytest
from django.utils import timezone

from avatar_studio import fashn
from avatar_studio.avatars import options, quota
from avatar_studio.avatars import services as avatar_services
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionModel
from avatar_studio.avatars.refusals import Refused
from avatar_studio.avatars.review import services as review
from avatar_studio.credits import ledger
from avatar_studio.credits.models import CreditState, CreditUse
from avatar_studio.shop import services as shop
from avatar_studio.shop.models import Look, Outfit, Product, TryOn

from ..shop.test_outfits import make_bottoms
from ..support.credits import spend
from ..support.jobs import make_finished_job


def test_tryon_v16_costs_one_credit_per_image_and_tryon_max_four():
    assert options.tryon_credits(fashn.TRYON) == 1
    assert options.tryon_credits(fashn.TRYON, num_images=2) == 2
    assert options.tryon_credits(fashn.TRYON_MAX, generation_mode="balanced") == 4
    assert options.tryon_credits(fashn.TRYON_MAX, generation_mode="quality", num_images=3) == 12
    with pytest.raises(ValueError):
        options.tryon_credits(fashn.FACE_TO_MODEL)


def test_a_try_on_job_is_estimated_at_its_model_price_not_face_to_models():
    premium = AvatarJob(model_name=PredictionModel.TRYON_MAX, generation_mode="quality")
    standard = AvatarJob(model_name=PredictionModel.TRYON)

    assert options.estimated_credits(premium) == 4
    assert options.estimated_credits(standard) == 1


def test_the_store_offers_standard_first_with_each_cost():
    assert shop.tryon_choices() == [
        ("tryon-v1.6", "Standard try-on", 1),
        ("tryon-max", "Premium try-on", 4),
    ]


def test_tryon_max_inputs_carry_the_garment_as_product_image():
    job = AvatarJob(model_name=PredictionModel.TRYON_MAX, generation_mode="quality", seed=7)
    image = "data:image/png;base64,iVBORw0KGgo="

    inputs = job.tryon_inputs(image, image)

    assert isinstance(inputs, fashn.TryOnMaxInputs)
    payload = inputs.to_payload()
    assert payload["product_image"] == image
    assert "garment_image" not in payload and "category" not in payload
    assert payload["generation_mode"] == "quality"


# --- The allowance: a try-on is the shopper's, charged to the shopper ---------------------------


def _nothing_stored(media_root):
    garments = media_root / "garments"
    files = [p for p in garments.rglob("*") if p.is_file()] if garments.exists() else []
    return (TryOn.objects.count(), Look.objects.count(), AvatarJob.objects.tryons().count()) == (
        0,
        0,
        0,
    ) and files == []


@pytest.fixture
def tee(demo_store):
    return Product.objects.get(slug="essential-crew-tee")


@pytest.fixture
def bobs_model(bob, staff):
    model = make_finished_job(bob, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    return model


@pytest.mark.django_db
def test_a_try_on_on_a_model_is_charged_to_the_shopper_not_the_models_owner(
    alice, bob, bobs_model, tee
):
    bobs_before = quota.used_today(bob)  # his avatar's cost

    look = shop.try_on(alice, tee, bobs_model.results.get())

    [use] = CreditUse.objects.filter(job_id=look.tryon.job_id)
    assert (use.owner, use.estimated, use.counted) == (alice, 1, True)
    assert use.state == CreditState.RESERVED
    assert quota.used_today(alice) == 1
    assert quota.used_today(bob) == bobs_before


@pytest.mark.django_db
def test_asking_again_for_a_try_on_costs_nothing_and_another_shopper_pays_for_their_own(
    alice, bob, bobs_model, tee, staff
):
    bobs_before = quota.used_today(bob)
    first = shop.try_on(alice, tee, bobs_model.results.get())
    again = shop.try_on(alice, tee, bobs_model.results.get())
    bobs = shop.try_on(bob, tee, bobs_model.results.get())

    assert again == first
    assert bobs.tryon != first.tryon
    assert quota.used_today(alice) == 1
    assert quota.used_today(bob) == bobs_before + 1
    assert CreditUse.objects.filter(model_name=PredictionModel.TRYON).count() == 2


@pytest.mark.django_db
def test_a_try_on_past_the_allowance_is_refused_and_stores_nothing(
    settings, alice, bobs_model, tee, media_root
):
    settings.AVATAR_DAILY_CREDITS = 2
    spend(alice, 2)

    with pytest.raises(Refused) as refused:
        shop.try_on(alice, tee, bobs_model.results.get())

    assert refused.value.code == "quota_exceeded"
    assert refused.value.message == (
        "You've used all 2 credits of today's allowance; it resets at 00:00 UTC."
    )
    assert 0 < refused.value.retry_after <= 24 * 3600
    assert _nothing_stored(media_root)
    assert not CreditUse.objects.filter(owner=alice, model_name=PredictionModel.TRYON).exists()


@pytest.mark.django_db
def test_a_premium_try_on_that_does_not_fit_names_the_cheaper_one(
    settings, alice, bobs_model, tee, media_root
):
    settings.AVATAR_DAILY_CREDITS = 4
    spend(alice, 2)

    with pytest.raises(Refused) as refused:
        shop.try_on(alice, tee, bobs_model.results.get(), model_name=PredictionModel.TRYON_MAX)

    assert refused.value.message == (
        "This try-on needs 4 credits and 2 of your 4 credits are left today. Choose the "
        "standard try-on, or wait until the allowance resets at 00:00 UTC."
    )
    assert _nothing_stored(media_root)
    # The standard one still fits.
    assert shop.try_on(alice, tee, bobs_model.results.get()).tryon.job.owner == alice


@pytest.mark.django_db
def test_staff_try_ons_are_recorded_not_counted(settings, staff, bobs_model, tee):
    settings.AVATAR_DAILY_CREDITS = 2
    spend(staff, 2)

    shop.try_on(staff, tee, bobs_model.results.get())

    assert CreditUse.objects.filter(owner=staff, counted=False).count() == 1


def _fail(job):
    """The try-on failed (FASHN charges nothing: the reservation comes back)."""
    AvatarJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error_name="PipelineError", finished_at=timezone.now()
    )
    ledger.settle(job.pk, JobStatus.FAILED)


@pytest.mark.django_db
def test_asking_again_for_a_failed_try_on_retries_it_and_reserves_again(
    settings, alice, bobs_model, tee
):
    settings.AVATAR_DAILY_CREDITS = 2
    look = shop.try_on(alice, tee, bobs_model.results.get())
    _fail(look.tryon.job)
    assert quota.used_today(alice) == 0  # given back

    again = shop.try_on(alice, tee, bobs_model.results.get())

    assert again == look
    assert again.tryon.job.status == JobStatus.QUEUED
    assert quota.used_today(alice) == 1
    assert CreditUse.objects.filter(state=CreditState.RESERVED).get().owner == alice


@pytest.mark.django_db
def test_a_failed_try_on_is_not_retried_past_the_allowance(settings, alice, bobs_model, tee):
    settings.AVATAR_DAILY_CREDITS = 4
    premium = PredictionModel.TRYON_MAX
    look = shop.try_on(alice, tee, bobs_model.results.get(), model_name=premium)
    _fail(look.tryon.job)
    spend(alice, 2)

    with pytest.raises(Refused) as refused:
        shop.try_on(alice, tee, bobs_model.results.get(), model_name=premium)

    assert refused.value.code == "quota_exceeded"
    look.tryon.job.refresh_from_db()
    assert look.tryon.job.status == JobStatus.FAILED
    with pytest.raises(Refused) as retried:
        avatar_services.retry_job(look.tryon.job)
    assert retried.value.message == (
        "Retrying this try-on needs 4 credits and 2 of your 4 credits are left today. "
        "Retry it once the allowance resets at 00:00 UTC."
    )


@pytest.mark.django_db
def test_an_outfit_that_does_not_fit_the_allowance_is_refused_whole(
    settings, alice, bobs_model, demo_store, media_root
):
    settings.AVATAR_DAILY_CREDITS = 2
    spend(alice, 1)
    top = Product.objects.get(slug="essential-crew-tee")
    bottoms = make_bottoms()

    with pytest.raises(Refused) as refused:
        shop.start_outfit(alice, bobs_model.results.get(), [top, bottoms])

    assert refused.value.message.startswith("This outfit needs 2 credits and 1 of your 2")
    assert not Outfit.objects.exists()
    assert _nothing_stored(media_root)
    # With room for both, its first step is the shopper's, charged to them.
    CreditUse.objects.all().delete()
    outfit = shop.start_outfit(alice, bobs_model.results.get(), [top, bottoms])
    first = outfit.steps.get(order=1).tryon
    assert first.shopper == first.job.owner == alice == outfit.shopper
    assert quota.used_today(alice) == 1
