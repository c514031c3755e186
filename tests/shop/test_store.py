"""The demo store without a worker: catalogue, product pages, who may dress which avatar, the
try-on cache, and what is deleted with an avatar."""

import html
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob, AvatarResult, JobStatus, PredictionModel
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.pipeline.failures import message_for
from avatar_studio.avatars.review import services as review
from avatar_studio.shop.catalogue import DEMO_GARMENTS
from avatar_studio.shop.models import Look, Product, TryOn

from ..support.credits import spend
from ..support.jobs import make_finished_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_store")]

TEE = "essential-crew-tee"


@pytest.fixture
def alice_avatar(alice):
    return make_finished_job(alice)


@pytest.fixture
def bob_model(bob, staff):
    """An avatar of Bob's that he shared and staff approved: a model in the store."""
    job = make_finished_job(bob, prompt="curvy figure")
    review.offer_for_display(job)
    review.approve(job, reviewer=staff)
    return job


def _try_on(client, avatar_job, slug=TEE):
    result = avatar_job.results.get()
    return client.post(reverse("shop:try-on", args=[slug]), {"avatar": result.pk})


def test_the_catalogue_lists_every_garment_to_anyone(client):
    response = client.get(reverse("shop:catalogue"))

    assert response.status_code == 200
    for garment in DEMO_GARMENTS:
        assert garment.name in response.content.decode()


def test_a_product_page_asks_visitors_to_log_in(client):
    response = client.get(reverse("shop:product", args=[TEE]))

    assert response.status_code == 200
    assert "Log in to see it on you" in response.content.decode()


def test_an_unknown_product_is_404(client):
    assert client.get(reverse("shop:product", args=["no-such-thing"])).status_code == 404
    assert client.get(reverse("shop:garment-image", args=["no-such-thing"])).status_code == 404


def test_demo_photos_are_transparent_pngs_and_always_the_same(client):
    url = reverse("shop:garment-image", args=["poppy-sundress"])
    first, second = client.get(url), client.get(url)

    assert first["Content-Type"] == "image/png"
    body = b"".join(first.streaming_content)
    assert body == b"".join(second.streaming_content)
    image = Image.open(io.BytesIO(body))
    assert image.mode == "RGBA"
    assert image.getpixel((2, 2))[3] == 0  # background
    assert image.getpixel((300, 500))[3] == 255  # the dress
    red, green, blue, _ = image.getpixel((300, 400))
    assert red > 2 * green  # the poppy red


def test_the_pickers_offer_own_avatars_and_shared_models_only(
    client, alice, alice_avatar, bob_model, bob
):
    private = make_finished_job(bob)
    client.force_login(alice)

    page = client.get(reverse("shop:product", args=[TEE])).content.decode()

    assert f'value="{alice_avatar.results.get().pk}"' in page
    assert f'value="{bob_model.results.get().pk}"' in page
    assert f'value="{private.results.get().pk}"' not in page


def test_see_it_on_me_starts_a_tryon_of_the_garment(client, alice, alice_avatar):
    client.force_login(alice)

    response = _try_on(client, alice_avatar)

    look = Look.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"?look={look.pk}#look")
    assert look.shopper == alice
    job = look.tryon.job
    assert job.model_name == PredictionModel.TRYON
    assert job.owner == alice
    assert job.model_result == alice_avatar.results.get()
    assert job.category == Product.objects.get(slug=TEE).category
    assert look.tryon.garment_slug == f"{TEE}-{Product.objects.get(slug=TEE).first_image().pk}"
    assert job.return_base64 is True
    assert job.status == JobStatus.QUEUED
    with job.garment_image.open("rb") as garment:
        assert garment.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_tryon_is_made_once_per_shopper_avatar_and_garment(
    client, alice, bob, alice_avatar, bob_model
):
    client.force_login(alice)
    _try_on(client, bob_model)
    _try_on(client, bob_model)  # asked again: the same try-on, nothing new
    client.force_login(bob)
    _try_on(client, bob_model)
    _try_on(client, bob_model, slug="forest-hoodie")
    _try_on(client, bob_model)

    # Alice's tee, Bob's tee and Bob's hoodie: each shopper's own, each with its own look.
    assert TryOn.objects.count() == 3
    assert AvatarJob.objects.tryons().count() == 3
    assert sorted(Look.objects.values_list("shopper__username", "tryon__shopper__username")) == [
        ("alice", "alice"),
        ("bob", "bob"),
        ("bob", "bob"),
    ]


def test_a_model_tryon_belongs_to_the_shopper_who_asked(client, alice, bob, bob_model):
    client.force_login(alice)

    _try_on(client, bob_model)

    tryon = TryOn.objects.get()
    assert tryon.shopper == tryon.job.owner == alice
    assert tryon.job.garment_image.name.startswith(f"garments/{alice.pk}/")
    assert bob_model.owner == bob


def test_a_shopper_out_of_credits_is_told_so_on_the_product_page_and_nothing_is_made(
    client, alice, bob_model, settings, media_root
):
    settings.AVATAR_DAILY_CREDITS = 2
    spend(alice, 2)
    client.force_login(alice)

    response = _try_on(client, bob_model)

    assert response.status_code == 302
    assert response["Location"] == reverse("shop:product", args=[TEE])
    page = client.get(response["Location"])
    assert "You&#x27;ve used all 2 credits of today&#x27;s allowance" in page.content.decode()
    assert (TryOn.objects.count(), Look.objects.count(), AvatarJob.objects.tryons().count()) == (
        0,
        0,
        0,
    )
    assert not (media_root / "garments").exists() or not any(
        path.is_file() for path in (media_root / "garments").rglob("*")
    )


def test_another_users_private_avatar_cannot_be_dressed(client, bob, alice_avatar):
    client.force_login(bob)

    response = _try_on(client, alice_avatar)

    assert response.status_code == 404
    assert not TryOn.objects.exists()
    assert not AvatarJob.objects.tryons().exists()


def test_a_tryon_picture_cannot_be_dressed_again(client, alice, alice_avatar):
    client.force_login(alice)
    _try_on(client, alice_avatar)
    tryon_job = TryOn.objects.get().job
    picture = AvatarResult.objects.create(
        job=tryon_job,
        index=0,
        image="x.jpg",
        thumbnail="x-thumb.jpg",
        width=64,
        height=96,
        content_type="image/jpeg",
    )
    AvatarJob.objects.filter(pk=tryon_job.pk).update(status=JobStatus.COMPLETED)

    response = client.post(reverse("shop:try-on", args=[TEE]), {"avatar": picture.pk})

    assert response.status_code == 404
    assert TryOn.objects.count() == 1


def test_visitors_are_sent_to_log_in_before_a_tryon(client, alice_avatar):
    response = _try_on(client, alice_avatar)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert not TryOn.objects.exists()


def test_a_tryon_on_me_is_private_to_me(client, alice, bob, alice_avatar):
    client.force_login(alice)
    _try_on(client, alice_avatar)
    look = Look.objects.get()
    assert client.get(reverse("shop:look", args=[look.pk])).status_code == 200

    client.force_login(bob)

    assert client.get(reverse("shop:look", args=[look.pk])).status_code == 404
    assert client.get(reverse("shop:look-image", args=[look.pk])).status_code == 404
    product = client.get(reverse("shop:product", args=[TEE]) + f"?look={look.pk}")
    assert product.status_code == 404


def test_a_withdrawn_model_disappears_from_the_store_at_once(client, alice, bob_model):
    client.force_login(alice)
    _try_on(client, bob_model)
    look = Look.objects.get()
    thumbnail = reverse("shop:model-thumbnail", args=[bob_model.results.get().pk])
    assert client.get(reverse("shop:look", args=[look.pk])).status_code == 200
    assert client.get(thumbnail).status_code == 200

    review.withdraw_from_display(bob_model)

    assert client.get(reverse("shop:look", args=[look.pk])).status_code == 404
    assert client.get(thumbnail).status_code == 404
    assert client.post(reverse("shop:try-on", args=[TEE]), {"avatar": 1}).status_code == 404


def test_a_private_avatars_thumbnail_is_not_a_model_thumbnail(client, alice_avatar):
    url = reverse("shop:model-thumbnail", args=[alice_avatar.results.get().pk])

    assert client.get(url).status_code == 404


def test_a_failed_tryon_starts_again_when_asked_again(client, alice, alice_avatar):
    client.force_login(alice)
    _try_on(client, alice_avatar)
    tryon = TryOn.objects.get()
    transitions.fail_job(tryon.job, "PipelineError")

    _try_on(client, alice_avatar)

    tryon.job.refresh_from_db()
    assert tryon.job.status == JobStatus.QUEUED
    assert TryOn.objects.count() == 1


def test_the_look_panel_shows_progress_then_the_failure(client, alice, alice_avatar):
    client.force_login(alice)
    _try_on(client, alice_avatar)
    look = Look.objects.get()
    tryon = look.tryon
    url = reverse("shop:look", args=[look.pk])

    waiting = client.get(url).content.decode()
    assert "Dressing your avatar" in waiting
    assert 'hx-trigger="every 1s"' in waiting

    transitions.fail_job(tryon.job, "PipelineError")
    failed = client.get(url).content.decode()
    assert "could not be made" in failed
    assert ">Retry</button>" in failed
    assert "hx-trigger" not in failed


def test_a_tryon_whose_inputs_were_refused_offers_no_try_again(client, alice, alice_avatar):
    client.force_login(alice)
    _try_on(client, alice_avatar)
    look = Look.objects.get()
    transitions.fail_job(look.tryon.job, "PoseError")

    failed = client.get(reverse("shop:look", args=[look.pk])).content.decode()

    assert "could not be made" in failed
    assert html.escape(message_for("PoseError", tryon=True)) in failed  # its own advice
    assert ">Retry</button>" not in failed


def test_tryons_stay_out_of_the_gallery_and_the_api(client, alice, alice_avatar):
    client.force_login(alice)
    _try_on(client, alice_avatar)

    gallery = client.get(reverse("avatars:gallery")).content.decode()
    api = client.get("/api/v1/avatars/").json()

    assert gallery.count('class="gallery-item"') == 1
    assert [item["id"] for item in api["results"]] == [str(alice_avatar.pk)]
    tryon_job = TryOn.objects.get().job
    assert client.get(reverse("avatars:job", args=[tryon_job.pk])).status_code == 404


def test_deleting_an_avatar_deletes_its_tryons_and_their_files(
    client, alice, alice_avatar, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    _try_on(client, alice_avatar)
    tryon_job = TryOn.objects.get().job
    garment_copy = tryon_job.garment_image.name
    assert default_storage.exists(garment_copy)

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_avatar(alice_avatar)

    assert not TryOn.objects.exists()
    assert not Look.objects.exists()
    assert not AvatarJob.objects.filter(pk=tryon_job.pk).exists()
    assert not default_storage.exists(garment_copy)
