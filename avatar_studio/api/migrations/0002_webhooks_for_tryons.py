# A webhook belongs to an avatar (job) or to a try-on (look), exactly one; renamed from
# AvatarWebhook to Webhook accordingly.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_webhooks"),
        ("avatars", "0004_reviewers_group"),
        ("shop", "0002_look"),
    ]

    operations = [
        migrations.RenameModel(old_name="AvatarWebhook", new_name="Webhook"),
        migrations.AlterModelOptions(
            name="webhook",
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.AlterField(
            model_name="webhook",
            name="job",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_webhook",
                to="avatars.avatarjob",
            ),
        ),
        migrations.AddField(
            model_name="webhook",
            name="look",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_webhooks",
                to="shop.look",
            ),
        ),
        migrations.AddField(
            model_name="webhook",
            name="told_end_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="webhook",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("job__isnull", False), ("look__isnull", True)),
                    models.Q(("job__isnull", True), ("look__isnull", False)),
                    _connector="OR",
                ),
                name="webhook_of_an_avatar_or_a_tryon",
            ),
        ),
    ]
