"""The migration that put the try-on model into the cache key, over a store that already has
try-ons: they stay, as tryon-v1.6, and are still found by a standard try-on."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from avatar_studio.avatars.models import AvatarJob
from avatar_studio.shop import services as shop_services
from avatar_studio.shop.models import Product, TryOn

from ..support.jobs import make_finished_job

# Migrations run outside a test transaction (SQLite cannot change its schema inside one).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("demo_store")]


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)


def test_existing_tryons_become_standard_ones_and_stay_cached(alice):
    avatar = make_finished_job(alice)
    tee = Product.objects.get(slug="essential-crew-tee")
    before = shop_services.try_on(alice, tee, avatar.results.get())

    migrate([("shop", "0004_products")])  # the model column goes
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    [kept] = TryOn.objects.all()
    assert kept.pk == before.tryon_id
    assert kept.model_name == "tryon-v1.6"
    assert shop_services.try_on(alice, tee, avatar.results.get()) == before
    premium = shop_services.try_on(alice, tee, avatar.results.get(), model_name="tryon-max")
    assert premium.tryon_id != kept.pk
    assert AvatarJob.objects.tryons().count() == 2
