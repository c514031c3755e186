"""Try-ons as a list of their own in the admin: a proxy of ``AvatarJob`` with no permissions of
its own (the job permissions govern try-ons, so the "Reviewers" group needs nothing new)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("avatars", "0006_candidates_and_remakes"),
    ]

    operations = [
        migrations.CreateModel(
            name="TryOnJob",
            fields=[],
            options={
                "verbose_name": "try-on",
                "verbose_name_plural": "try-ons",
                "proxy": True,
                "default_permissions": (),
                "indexes": [],
                "constraints": [],
            },
            bases=("avatars.avatarjob",),
        ),
    ]
