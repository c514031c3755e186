"""A try-on is private to the shopper who asked for it, even once its avatar becomes a public
model, while the picture itself is made once and reused by everyone who asks (FASHN credits).

Each test finds a look's address the way a shopper does, from the redirect after asking."""

import io
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from avatar_studio.accounts.deletion import delete_account
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionAttempt, result_path
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.pipeline.outputs import StoredOutput
from avatar_studio.avatars.review import services as review
from avatar_studio.shop.models import Look, TryOn

from ..support.jobs import make_finished_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_store")]

TEE = "essential-crew-tee"


def ask_for_look(client, avatar_job, slug=TEE):
    """Press "See it on me" / "See it on a model"; the look's id, from the redirect."""
    response = client.post(
        reverse("shop:try-on", args=[slug]), {"avatar": avatar_job.results.get().pk}
    )
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["look"][0]


def look_urls(look_id, slug=TEE):
    return [
        reverse("shop:look", args=[look_id]),
        reverse("shop:look-image", args=[look_id]),
        reverse("shop:product", args=[slug]) + f"?look={look_id}",
    ]


def finish_with_picture(tryon_job):
    """The try-on's prediction completes with one stored picture, as the pipeline would."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 96), (40, 60, 120)).save(buffer, "JPEG")
    attempt = PredictionAttempt.objects.create(
        job=tryon_job, number=1, prediction_id=f"pred-{tryon_job.pk}", submitted_at=timezone.now()
    )
    AvatarJob.objects.filter(pk=tryon_job.pk).update(status=JobStatus.PROCESSING)
    image = default_storage.save(result_path(tryon_job, "1-0.jpg"), ContentFile(buffer.getvalue()))
    thumbnail = default_storage.save(result_path(tryon_job, "1-0-thumb.jpg"), ContentFile(b"x"))
    assert transitions.complete_job(
        tryon_job,
        attempt,
        stored_outputs=[StoredOutput(0, image, thumbnail, "image/jpeg", 64, 96)],
        credits_used=1,
    )


def test_a_look_on_my_avatar_stays_mine_when_the_avatar_becomes_a_model(client, alice, bob, staff):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    alices_look = ask_for_look(client, avatar)
    tryon = TryOn.objects.get()
    finish_with_picture(tryon.job)
    # Alice later offers the avatar for the showcase, and staff approve it.
    review.offer_for_display(avatar)
    review.approve(avatar, reviewer=staff)

    client.force_login(bob)

    for url in look_urls(alices_look):
        assert client.get(url).status_code == 404, url
    # Guessing: the try-on's row number, and the numbers around it, open nothing.
    for guess in (tryon.pk - 1, tryon.pk, tryon.pk + 1):
        assert client.get(f"/shop/looks/{guess}/").status_code == 404
        assert client.get(f"/shop/looks/{guess}/image/").status_code == 404
        assert client.get(reverse("shop:product", args=[TEE]) + f"?look={guess}").status_code == 404

    # Bob asks for the same garment on the model: his own look at a try-on of his own.
    bobs_look = ask_for_look(client, avatar)
    assert bobs_look != alices_look
    bobs_tryon = Look.objects.get(pk=bobs_look).tryon
    assert bobs_tryon != Look.objects.get(pk=alices_look).tryon
    assert TryOn.objects.count() == 2
    assert sorted(AvatarJob.objects.tryons().values_list("owner__username", flat=True)) == [
        "alice",
        "bob",
    ]
    finish_with_picture(bobs_tryon.job)
    for url in look_urls(bobs_look):
        assert client.get(url).status_code == 200, url
    for url in look_urls(alices_look):
        assert client.get(url).status_code == 404, url

    client.force_login(alice)
    for url in look_urls(alices_look):
        assert client.get(url).status_code == 200, url
    for url in look_urls(bobs_look):
        assert client.get(url).status_code == 404, url


def test_a_look_on_a_model_is_private_to_the_shopper_who_asked(client, alice, bob, staff):
    model = make_finished_job(alice, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    client.force_login(bob)
    bobs_look = ask_for_look(client, model)

    client.force_login(alice)  # the model's owner did not ask for this look either

    for url in look_urls(bobs_look):
        assert client.get(url).status_code == 404, url


def test_look_addresses_are_random_uuids(client, alice, bob, staff):
    model = make_finished_job(alice, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    client.force_login(alice)
    first = ask_for_look(client, model)
    client.force_login(bob)
    second = ask_for_look(client, model)

    assert uuid.UUID(first).version == 4
    assert uuid.UUID(second).version == 4
    assert first != second


def test_asking_again_finds_the_same_look(client, alice):
    avatar = make_finished_job(alice)
    client.force_login(alice)

    assert ask_for_look(client, avatar) == ask_for_look(client, avatar)
    assert TryOn.objects.count() == 1


def test_staff_without_permissions_cannot_open_a_shoppers_look(client, alice, staff):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    look = ask_for_look(client, avatar)
    finish_with_picture(TryOn.objects.get().job)

    client.force_login(staff)

    for url in look_urls(look):
        assert client.get(url).status_code == 404, url


def test_a_deleted_account_takes_its_looks_and_try_ons_not_another_shoppers(
    client, alice, bob, staff
):
    model = make_finished_job(alice, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    client.force_login(alice)
    alices_look = ask_for_look(client, model)
    client.force_login(bob)
    ask_for_look(client, model)

    delete_account(bob)

    assert list(Look.objects.values_list("pk", flat=True)) == [uuid.UUID(alices_look)]
    assert list(TryOn.objects.values_list("shopper", flat=True)) == [alice.pk]
    assert list(AvatarJob.objects.tryons().values_list("owner", flat=True)) == [alice.pk]
