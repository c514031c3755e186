"""A try-on shows a face, so it belongs to the shopper who asked: it goes with their account,
with the files; and it goes with the avatar it dresses, whoever asked, since the face is the
avatar owner's. Its garment image follows the retention of a job's input, as a selfie does.

Alice shares her avatar as a model in the store; Bob and Carol each try a tee on it, Bob also
builds an outfit on it and makes a look through a shop's button on his own avatar."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from avatar_studio.accounts.deletion import delete_account
from avatar_studio.avatars import retention, services
from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.avatars.refusals import GARMENT_GONE, Refused
from avatar_studio.avatars.review import services as review
from avatar_studio.embed.models import EmbedLook, Shop
from avatar_studio.shop import services as shop
from avatar_studio.shop.models import Look, Outfit, Product, TryOn

from ..shop.test_looks import finish_with_picture
from ..shop.test_outfits import make_bottoms
from ..support.jobs import make_finished_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_store")]

TEE = "essential-crew-tee"


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-password-1")


@pytest.fixture
def store(alice, bob, carol, staff):
    model = make_finished_job(alice, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    tee = Product.objects.get(slug=TEE)
    image = model.results.get()
    bobs_look = shop.try_on(bob, tee, image)
    carols_look = shop.try_on(carol, tee, image)
    bobs_outfit = shop.start_outfit(bob, image, [tee, make_bottoms()])
    bobs_avatar = make_finished_job(bob)
    bobs_own = shop.try_on(bob, tee, bobs_avatar.results.get())
    boutique = Shop.objects.create(name="Boutique", allowed_origins="https://shop.example")
    embed_look = EmbedLook.objects.create(
        look=bobs_own, shop=boutique, origin="https://shop.example", garment_name="Tee"
    )
    for look in (bobs_look, carols_look, bobs_own):
        finish_with_picture(look.tryon.job)
    return {
        "model": model,
        "bobs_look": bobs_look,
        "carols_look": carols_look,
        "bobs_outfit": bobs_outfit,
        "bobs_avatar": bobs_avatar,
        "bobs_own": bobs_own,
        "embed_look": embed_look,
    }


def _files(job):
    """The stored files of a try-on job: its garment image and its pictures."""
    job = AvatarJob.objects.get(pk=job.pk)
    names = [job.garment_image.name]
    for result in job.results.all():
        names += [result.image.name, result.thumbnail.name]
    assert names and all(default_storage.exists(name) for name in names)
    return names


def _gone(names):
    return not any(default_storage.exists(name) for name in names)


def test_each_shopper_owns_the_try_ons_they_asked_for(store, alice, bob, carol):
    bobs, carols = store["bobs_look"].tryon, store["carols_look"].tryon

    assert bobs != carols
    assert (bobs.shopper, bobs.job.owner) == (bob, bob)
    assert (carols.shopper, carols.job.owner) == (carol, carol)
    assert bobs.job.garment_image.name.startswith(f"garments/{bob.pk}/")
    step = store["bobs_outfit"].steps.get(order=1).tryon
    assert step.shopper == step.job.owner == bob
    # Every look leads to its own shopper's try-on.
    assert not Look.objects.exclude(tryon__shopper=F("shopper")).exists()
    assert not AvatarJob.objects.tryons().filter(owner=alice).exists()


def test_a_shoppers_account_deletion_takes_their_try_ons_looks_outfits_and_files(
    store, alice, bob, carol, django_capture_on_commit_callbacks
):
    bobs_jobs = [store["bobs_look"].tryon.job, store["bobs_own"].tryon.job]
    bobs_outfit_job = store["bobs_outfit"].steps.get(order=1).tryon.job
    bobs_files = [name for job in bobs_jobs for name in _files(job)]
    bobs_files.append(AvatarJob.objects.get(pk=bobs_outfit_job.pk).garment_image.name)
    carols_files = _files(store["carols_look"].tryon.job)
    models_files = [r.image.name for r in store["model"].results.all()]

    with django_capture_on_commit_callbacks(execute=True):
        delete_account(bob)

    assert not get_user_model().objects.filter(pk=bob.pk).exists()
    assert not AvatarJob.objects.filter(owner_id=bob.pk).exists()
    assert not TryOn.objects.filter(shopper_id=bob.pk).exists()
    assert not Look.objects.filter(shopper_id=bob.pk).exists()
    assert not Outfit.objects.filter(shopper_id=bob.pk).exists()
    assert not EmbedLook.objects.exists()
    assert _gone(bobs_files)
    # Carol's try-on of the same tee on the same model is hers, and stays; so does the model.
    assert Look.objects.filter(pk=store["carols_look"].pk).exists()
    assert all(default_storage.exists(name) for name in carols_files + models_files)
    assert AvatarJob.objects.filter(pk=store["model"].pk).exists()


def test_deleting_the_avatar_takes_every_try_on_of_it_whoever_asked(
    store, bob, carol, django_capture_on_commit_callbacks
):
    on_the_model = [store["bobs_look"].tryon.job, store["carols_look"].tryon.job]
    files = [name for job in on_the_model for name in _files(job)]
    bobs_own_files = _files(store["bobs_own"].tryon.job)

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_avatar(store["model"])

    assert not AvatarJob.objects.filter(pk__in=[job.pk for job in on_the_model]).exists()
    assert not Look.objects.filter(pk__in=[store["bobs_look"].pk, store["carols_look"].pk]).exists()
    assert not Outfit.objects.exists()  # Bob's outfit on the model went with its image
    assert _gone(files)
    # Bob's try-on of his own avatar has nothing to do with Alice's.
    assert Look.objects.filter(pk=store["bobs_own"].pk).exists()
    assert all(default_storage.exists(name) for name in bobs_own_files)


def test_the_avatar_owners_account_deletion_takes_every_try_on_of_her_avatars(
    store, alice, bob, carol, django_capture_on_commit_callbacks
):
    on_the_model = [store["bobs_look"].tryon.job, store["carols_look"].tryon.job]
    files = [name for job in on_the_model for name in _files(job)]

    with django_capture_on_commit_callbacks(execute=True):
        delete_account(alice)

    assert not AvatarJob.objects.filter(pk__in=[job.pk for job in on_the_model]).exists()
    assert not TryOn.objects.filter(avatar_result__job_id=store["model"].pk).exists()
    assert _gone(files)
    # The shoppers themselves, and what they made of their own avatars, stay.
    assert get_user_model().objects.filter(pk__in=[bob.pk, carol.pk]).count() == 2
    assert Look.objects.filter(pk=store["bobs_own"].pk).exists()


# --- Retention: a try-on's garment image is its input, kept as a selfie is ----------------------


def _garments(report):
    """The garment images a purge removed (the model avatar's own selfie may go too)."""
    return [name for _job, name in report.completed + report.failed if name.startswith("garm")]


def _age(job, **delta):
    AvatarJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(**delta))
    return AvatarJob.objects.get(pk=job.pk)


def test_a_completed_try_ons_garment_image_goes_once_the_completion_commits(
    bob, eager_tasks, django_capture_on_commit_callbacks
):
    model = make_finished_job(bob)
    look = shop.try_on(bob, Product.objects.get(slug=TEE), model.results.get())
    garment = look.tryon.job.garment_image.name
    assert default_storage.exists(garment)

    with django_capture_on_commit_callbacks(execute=True):
        finish_with_picture(look.tryon.job)

    job = AvatarJob.objects.get(pk=look.tryon.job_id)
    assert job.status == JobStatus.COMPLETED and not job.garment_image
    assert not default_storage.exists(garment)
    # The picture itself is the shopper's until they, or the avatar, go.
    assert all(default_storage.exists(r.image.name) for r in job.results.all())


def test_a_failed_try_on_keeps_its_garment_for_retry_then_loses_it_and_is_made_anew(
    bob, settings, capsys
):
    settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS = 7
    model = make_finished_job(bob)
    tee = Product.objects.get(slug=TEE)
    look = shop.try_on(bob, tee, model.results.get())
    AvatarJob.objects.filter(pk=look.tryon.job_id).update(
        status=JobStatus.FAILED, error_name="PipelineError"
    )
    failed = _age(look.tryon.job, days=6)
    garment = failed.garment_image.name

    assert _garments(retention.purge_expired_files()) == []  # still kept for Retry
    failed = _age(failed, days=8)
    call_command("purge_expired_files")

    assert (
        f"deleted {garment} (garment image of failed try-on {failed.pk})" in capsys.readouterr().out
    )
    failed.refresh_from_db()
    assert not failed.garment_image and not default_storage.exists(garment)
    assert "its garment picture was deleted" in failed.error_message
    with pytest.raises(Refused) as refused:
        services.retry_job(failed)
    assert refused.value.reason == GARMENT_GONE
    # Asking for the same try-on again makes a new one, with a garment image of its own.
    again = shop.try_on(bob, tee, model.results.get())
    assert not AvatarJob.objects.filter(pk=failed.pk).exists()
    assert again.tryon.job.status == JobStatus.QUEUED
    assert default_storage.exists(again.tryon.job.garment_image.name)


def test_a_job_still_running_keeps_its_garment_image(bob):
    model = make_finished_job(bob)
    look = shop.try_on(bob, Product.objects.get(slug=TEE), model.results.get())

    assert _garments(retention.purge_expired_files(timezone.now() + timedelta(days=365))) == []
    assert default_storage.exists(look.tryon.job.garment_image.name)
