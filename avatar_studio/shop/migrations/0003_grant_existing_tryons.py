"""Try-ons made before looks existed: each is granted to the owner of the avatar it dresses.

Before, anyone who could dress an avatar could open every try-on of it; from now on a shopper
opens only the looks they asked for. Who asked was never recorded, so the one person these
try-ons surely belong to is the avatar's owner (their face, their avatar). Other shoppers who
asked before get their own look the next time they ask, from the same cached picture.
"""

import uuid

from django.db import migrations

BATCH = 500


def grant_to_avatar_owners(apps, schema_editor):
    TryOn = apps.get_model("shop", "TryOn")
    Look = apps.get_model("shop", "Look")
    already = set(Look.objects.values_list("tryon_id", "shopper_id"))
    pairs = TryOn.objects.order_by("pk").values_list("pk", "avatar_result__job__owner_id")
    looks = [
        Look(id=uuid.uuid4(), tryon_id=tryon_id, shopper_id=owner_id)
        for tryon_id, owner_id in pairs.iterator()
        if (tryon_id, owner_id) not in already
    ]
    Look.objects.bulk_create(looks, batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_look")]

    # Undone, the looks go with their table (0002's reverse); nothing to do here.
    operations = [migrations.RunPython(grant_to_avatar_owners, migrations.RunPython.noop)]
