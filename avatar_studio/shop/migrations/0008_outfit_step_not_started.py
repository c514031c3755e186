"""An outfit step refused when the garment before it was on keeps the refusal's message, so the
outfit's page can say why it stopped and offer to continue (existing steps: none)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0007_tryon_shopper"),
    ]

    operations = [
        migrations.AddField(
            model_name="outfitstep",
            name="not_started_because",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
    ]
