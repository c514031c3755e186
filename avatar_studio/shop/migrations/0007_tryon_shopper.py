"""A try-on belongs to the shopper who asked, and the cache becomes per shopper.

Existing try-ons keep the owner their job already has (the avatar's owner, who was given a look
at each of them when looks began) as their shopper. A look of any other shopper at such a try-on
would lead to a picture that is not theirs, so it goes (and an outfit's step on such a try-on
is no longer started); that shopper gets a try-on of their own the next time they ask (it is
made again, from their allowance).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def shopper_from_job_owner(apps, schema_editor):
    TryOn = apps.get_model("shop", "TryOn")
    AvatarJob = apps.get_model("avatars", "AvatarJob")
    Look = apps.get_model("shop", "Look")
    owner = AvatarJob.objects.filter(pk=OuterRef("job_id")).values("owner_id")[:1]
    TryOn.objects.update(shopper_id=Subquery(owner))
    Look.objects.exclude(shopper_id=F("tryon__shopper_id")).delete()
    # An outfit's step on such a try-on is not started any more (as when its try-on is deleted).
    OutfitStep = apps.get_model("shop", "OutfitStep")
    OutfitStep.objects.filter(tryon__isnull=False).exclude(
        tryon__shopper_id=F("outfit__shopper_id")
    ).update(tryon=None)


class Migration(migrations.Migration):
    dependencies = [
        ("avatars", "0008_tryon_max"),
        ("shop", "0006_outfit"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="tryon", name="one_tryon_per_avatar_garment_and_model"
        ),
        migrations.AddField(
            model_name="tryon",
            name="shopper",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tryons",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # Undone, the removed looks stay removed; the shopper column goes with the field.
        migrations.RunPython(shopper_from_job_owner, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tryon",
            name="shopper",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tryons",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="tryon",
            constraint=models.UniqueConstraint(
                fields=("shopper", "avatar_result", "garment_slug", "model_name"),
                name="one_tryon_per_shopper_avatar_garment_and_model",
            ),
        ),
    ]
