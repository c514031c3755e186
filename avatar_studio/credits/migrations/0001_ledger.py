import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import Sum
from django.utils import timezone

from avatar_studio.fashn import credits_for

FACE_TO_MODEL = "face-to-model"


def backfill(apps, schema_editor):
    """One row for each job that exists: completed ones charged what their attempts reported,
    running ones reserved at their estimate (settled when they end). Failed jobs used nothing.
    Jobs deleted before this migration left no trace to recover: the dashboard's figures for
    the days before it may stay low."""
    AvatarJob = apps.get_model("avatars", "AvatarJob")
    CreditUse = apps.get_model("credits", "CreditUse")
    jobs = (
        AvatarJob.objects.exclude(status="failed")
        .annotate(reported=Sum("attempts__credits_used"))
        .select_related("owner")
        .order_by("created_at")
    )
    rows = []
    for job in jobs.iterator(chunk_size=1000):
        avatar = job.model_name == FACE_TO_MODEL
        estimated = (
            credits_for(
                generation_mode=job.generation_mode or None,
                resolution=job.resolution or None,
                num_images=job.num_images or None,
            )
            if avatar
            else job.reported or 0
        )
        completed = job.status == "completed"
        rows.append(
            CreditUse(
                owner_id=job.owner_id,
                job_id=job.pk,
                model_name=job.model_name,
                estimated=estimated,
                charged=job.reported if completed else None,
                state="charged" if completed else "reserved",
                counted=avatar and not job.owner.is_staff,
                created_at=job.created_at,
                settled_at=(job.finished_at or timezone.now()) if completed else None,
            )
        )
        if len(rows) >= 1000:
            CreditUse.objects.bulk_create(rows)
            rows = []
    CreditUse.objects.bulk_create(rows)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("avatars", "0005_tryon_jobs_and_webhook_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name='CreditUse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('job_id', models.UUIDField(db_index=True)),
                ('model_name', models.CharField(max_length=64)),
                ('estimated', models.PositiveIntegerField()),
                ('charged', models.PositiveIntegerField(blank=True, null=True)),
                ('state', models.CharField(choices=[('reserved', 'Reserved'), ('charged', 'Charged'), ('refunded', 'Refunded')], default='reserved', max_length=16)),
                ('counted', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('settled_at', models.DateTimeField(blank=True, null=True)),
                ('owner', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['owner', 'created_at'], name='credits_owner_day'), models.Index(fields=['state', 'settled_at'], name='credits_settled')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
