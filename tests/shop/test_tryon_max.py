"""tryon-max beside tryon-v1.6: the shopper's choice reaches FASHN through the real pipeline
(a Celery worker, Redis and the offline engine), is priced, and is part of the try-on cache."""

import pytest
from django.urls import reverse

from avatar_studio.avatars import options
from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.credits.models import CreditUse
from avatar_studio.shop import services
from avatar_studio.shop.models import Look, TryOn

from ..support.jobs import make_job, wait_until_finished

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]


def test_premium_try_on_runs_tryon_max_with_the_product_image(client, start_worker, engine, alice):
    start_worker()
    avatar = wait_until_finished(make_job(alice, output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    client.force_login(alice)

    client.post(
        reverse("shop:try-on", args=["sunset-logo-tee"]),
        {"avatar": avatar.results.get().pk, "tryon_model": "tryon-max"},
    )
    look = Look.objects.get()
    assert look.tryon.model_name == "tryon-max"
    job = wait_until_finished(look.tryon.job)

    assert job.status == JobStatus.COMPLETED, job.error_message
    assert job.model_name == "tryon-max"
    assert job.category == ""  # tryon-max takes no category
    [attempt] = job.attempts.all()
    sent = engine.app.store.get(attempt.prediction_id).inputs
    assert sent.model_name == "tryon-max"
    assert sent.product_image.startswith("data:image/png;base64,")
    assert not hasattr(sent, "garment_image")
    assert attempt.credits_used == 4
    assert options.estimated_credits(job) == 4
    assert job.results.count() == 1
    response = client.get(reverse("shop:look-image", args=[look.pk]))
    assert response.status_code == 200
    use = CreditUse.objects.get(job_id=job.pk)
    assert (use.model_name, use.charged) == ("tryon-max", 4)


def test_standard_and_premium_of_one_garment_are_two_cached_try_ons(start_worker, engine, alice):
    start_worker()
    avatar = wait_until_finished(make_job(alice, output_format="jpeg"))
    result = avatar.results.get()
    product = services.Product.objects.get(slug="sunset-logo-tee")

    standard = services.try_on(alice, product, result)
    premium = services.try_on(alice, product, result, model_name="tryon-max")
    again = services.try_on(alice, product, result, model_name="tryon-max")

    assert standard.tryon != premium.tryon
    assert again == premium  # served from the cache, no new job
    assert standard.tryon.garment_slug == premium.tryon.garment_slug
    assert {t.model_name for t in TryOn.objects.all()} == {"tryon-v1.6", "tryon-max"}
    assert AvatarJob.objects.tryons().count() == 2
    assert wait_until_finished(standard.tryon.job).attempts.get().credits_used == 1
    assert wait_until_finished(premium.tryon.job).attempts.get().credits_used == 4


def test_an_unknown_try_on_model_is_refused_and_creates_nothing(
    client, start_worker, engine, alice
):
    start_worker()
    avatar = wait_until_finished(make_job(alice, output_format="jpeg"))
    client.force_login(alice)

    response = client.post(
        reverse("shop:try-on", args=["sunset-logo-tee"]),
        {"avatar": avatar.results.get().pk, "tryon_model": "tryon-ultra"},
        follow=True,
    )

    assert "That try-on is not offered" in response.content.decode()
    assert not TryOn.objects.exists()
    assert not Look.objects.exists()
    assert not AvatarJob.objects.tryons().exists()
    assert engine.stats()["runs_accepted"] == 1  # the avatar alone
