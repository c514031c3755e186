"""The migration that brought looks in, over a store that already has try-ons: each existing
try-on becomes a look of the avatar's owner, and nobody else's."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from avatar_studio.avatars.models import AvatarJob
from avatar_studio.avatars.review import services as review
from avatar_studio.shop import services as shop_services
from avatar_studio.shop.models import Look, Product, TryOn

from ..support.jobs import make_finished_job

# Migrations run outside a test transaction (SQLite cannot change its schema inside one).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("demo_store")]

BEFORE_LOOKS = [("shop", "0001_initial")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_existing_tryons_are_granted_to_their_avatars_owner(client, alice, bob, staff):
    own = make_finished_job(alice)
    model = make_finished_job(alice, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    tee = Product.objects.get(slug="essential-crew-tee")
    shop_services.try_on(alice, tee, own.results.get())
    bobs_then = shop_services.try_on(bob, tee, model.results.get())  # on Alice's model
    # Before try-ons were their shoppers', a try-on's job was the avatar owner's.
    AvatarJob.objects.filter(pk=bobs_then.tryon.job_id).update(owner=alice)
    tryons = set(TryOn.objects.values_list("pk", flat=True))

    migrate(BEFORE_LOOKS)  # the looks' table goes, with Bob's look in it
    migrate(latest())

    looks = Look.objects.select_related("tryon")
    assert {look.tryon_id for look in looks} == tryons
    assert {look.shopper.username for look in looks} == {"alice"}
    assert len({look.pk for look in looks}) == 2
    client.force_login(alice)
    for look in looks:
        assert client.get(reverse("shop:look", args=[look.pk])).status_code == 200
    # Bob's earlier request was never recorded: he asks again and gets a look of his own.
    client.force_login(bob)
    for look in looks:
        assert client.get(reverse("shop:look", args=[look.pk])).status_code == 404
    # Going back before looks took the products' tables along: the demo store is loaded again
    # (its photos are new rows, so whether the cached picture is found depends on their ids,
    # which this test does not control), and Bob's request gives him a look of his own.
    call_command("loaddemo", verbosity=0)
    tee = Product.objects.get(slug="essential-crew-tee")
    bobs = shop_services.try_on(bob, tee, model.results.get())
    assert bobs.shopper == bob
    assert bobs.tryon.avatar_result == model.results.get()
    assert Look.objects.filter(shopper=bob).count() == 1
