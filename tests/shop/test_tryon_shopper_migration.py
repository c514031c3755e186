"""The migration that gave each try-on its shopper, over a store whose try-ons were the avatar
owner's and shared as a cache: each keeps its job's owner as its shopper, and a look another
shopper had at it goes (they ask again and get a try-on of their own)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from avatar_studio.avatars.models import AvatarJob
from avatar_studio.avatars.review import services as review
from avatar_studio.shop import services as shop_services
from avatar_studio.shop.models import Look, OutfitStep, Product, TryOn

from ..support.jobs import make_finished_job
from .test_outfits import make_bottoms

# Migrations run outside a test transaction (SQLite cannot change its schema inside one).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("demo_store")]

BEFORE = [("shop", "0006_outfit")]


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_a_shared_try_on_stays_its_job_owners_and_other_shoppers_looks_go(
    client, alice, bob, staff
):
    model = make_finished_job(alice, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    tee = Product.objects.get(slug="essential-crew-tee")
    # The old world: Bob asked for the tee on Alice's model; the job was Alice's, and Alice and
    # Bob each had a look at it (Alice's granted when looks began).
    bobs_old = shop_services.try_on(bob, tee, model.results.get())
    tryon = bobs_old.tryon
    AvatarJob.objects.filter(pk=tryon.job_id).update(owner=alice)
    alices = Look.objects.create(shopper=alice, tryon=tryon)
    # And an outfit of Bob's whose first step was that shared try-on.
    outfit = shop_services.start_outfit(bob, model.results.get(), [make_bottoms(), tee])
    OutfitStep.objects.filter(outfit=outfit, order=1).update(tryon=tryon)

    migrate(BEFORE)
    migrate(latest())

    tryon = TryOn.objects.get(pk=tryon.pk)
    assert tryon.shopper == tryon.job.owner == alice
    assert list(Look.objects.values_list("pk", flat=True)) == [alices.pk]
    assert OutfitStep.objects.get(outfit=outfit, order=1).tryon is None
    client.force_login(alice)
    assert client.get(reverse("shop:look", args=[alices.pk])).status_code == 200
    client.force_login(bob)
    assert client.get(reverse("shop:look", args=[bobs_old.pk])).status_code == 404
    # Bob asks again: a try-on of his own, not Alice's.
    tee = Product.objects.get(slug="essential-crew-tee")
    bobs_new = shop_services.try_on(bob, tee, model.results.get())
    assert bobs_new.tryon != tryon
    assert bobs_new.tryon.shopper == bobs_new.tryon.job.owner == bob
