"""``manage.py purge_orphan_files``: stored files no row points to are found and deleted, on the
filesystem and on S3; files in use and files too young to judge are kept."""

import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from avatar_studio import celery_app
from avatar_studio.avatars.models import AvatarJob, AvatarResult
from avatar_studio.avatars.orphans import file_fields, purge_orphan_files
from avatar_studio.avatars.retention import purge_selfie
from avatar_studio.shop.models import Product, ProductImage

from ..support.faces import flat_image
from ..support.jobs import make_finished_job
from .conftest import bucket_keys, s3_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _purge(*options):
    out = StringIO()
    call_command("purge_orphan_files", *options, stdout=out)
    return out.getvalue()


def _files_under(media_root):
    return sorted(
        str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()
    )


def _product_with_photo():
    product = Product.objects.create(name="Tee", slug="tee", price=10, category="tops")
    photo = ProductImage(product=product)
    photo.image.save("tee.png", ContentFile(flat_image()), save=True)
    return photo


def test_every_file_field_of_every_model_is_searched():
    fields = {(model, field.name) for model, field in file_fields()}

    assert {
        (AvatarJob, "selfie"),
        (AvatarJob, "garment_image"),
        (AvatarResult, "image"),
        (AvatarResult, "thumbnail"),
        (ProductImage, "image"),
    } <= fields
    assert not any(model._meta.proxy for model, _ in fields)


def test_old_orphans_on_the_filesystem_are_listed_then_deleted(media_root, alice):
    job = make_finished_job(alice)
    photo = _product_with_photo()
    in_use = sorted(_files_under(media_root))
    assert photo.image.name in in_use and job.selfie.name in in_use
    old_orphans = [f"avatars/{alice.pk}/gone-job/1-0.png", f"selfies/{alice.pk}/gone.jpg"]
    young_orphan = "products/being-uploaded.png"
    two_hours_ago = time.time() - 2 * 60 * 60
    for name in [*old_orphans, young_orphan]:
        (media_root / name).parent.mkdir(parents=True, exist_ok=True)
        (media_root / name).write_bytes(b"orphan")
    for name in old_orphans:
        os.utime(media_root / name, (two_hours_ago, two_hours_ago))

    dry = _purge("--dry-run")

    for name in old_orphans:
        assert f"would delete {name} (6 bytes" in dry
    assert young_orphan not in dry
    assert "Dry run: 2 orphan file(s) (12 bytes) would be deleted" in dry
    assert f"{len(in_use)} file(s) in use kept; 1 unreferenced file(s) younger than 60" in dry
    assert sorted(_files_under(media_root)) == sorted([*in_use, *old_orphans, young_orphan])

    done = _purge()

    assert "2 orphan file(s) (12 bytes) deleted" in done
    assert sorted(_files_under(media_root)) == sorted([*in_use, young_orphan])
    # Given a shorter minimum age, the young one goes too.
    os.utime(media_root / young_orphan, (time.time() - 120, time.time() - 120))
    assert "1 orphan file(s) (6 bytes) deleted" in _purge("--older-than-minutes", "1")
    assert _files_under(media_root) == in_use


def test_a_media_root_not_made_yet_holds_no_orphan(media_root):
    assert not media_root.exists()

    assert "0 orphan file(s) (0 bytes) deleted; 0 file(s) in use kept" in _purge()


def test_a_minimum_age_under_a_minute_is_refused(media_root):
    with pytest.raises(CommandError, match="--older-than-minutes must be 1 or more"):
        _purge("--older-than-minutes", "0")


def test_an_object_left_by_a_deletion_during_an_s3_outage_is_found_and_deleted(
    s3_storage, s3_server, s3_proxy, alice
):
    job = make_finished_job(alice)
    selfie = job.selfie.name
    in_use = sorted(
        name for name in bucket_keys(s3_storage) if name != selfie
    )  # the avatar and its thumbnail
    stray = f"avatars/{alice.pk}/crashed-job/1-0.png"
    s3_client(s3_server.url).put_object(
        Bucket=s3_storage["AWS_STORAGE_BUCKET_NAME"], Key=stray, Body=b"orphan"
    )
    # The retention purge runs while S3 is out of reach: the row forgets the selfie, but the
    # object cannot be deleted. Nothing points to it any more.
    s3_proxy.cut()
    assert purge_selfie(AvatarJob.objects.get(pk=job.pk))
    assert s3_proxy.refused > 0
    s3_proxy.restore()
    assert AvatarJob.objects.get(pk=job.pk).selfie.name == ""
    assert bucket_keys(s3_storage) == sorted([*in_use, selfie, stray])

    # Both are minutes old at most: the command leaves them until they are older.
    young = _purge("--dry-run")
    assert "Dry run: 0 orphan file(s)" in young and "2 unreferenced file(s) younger" in young
    later = timezone.now() + timedelta(hours=2)
    dry = purge_orphan_files(now=later, dry_run=True)
    assert sorted(stored.name for stored in dry.orphans) == sorted([selfie, stray])
    assert bucket_keys(s3_storage) == sorted([*in_use, selfie, stray])

    report = purge_orphan_files(now=later)

    assert report.failed == [] and len(report.orphans) == 2
    assert bucket_keys(s3_storage) == in_use


def test_orphans_that_cannot_be_deleted_are_reported(s3_storage, s3_server, alice):
    make_finished_job(alice)
    later = timezone.now() + timedelta(hours=2)
    s3_client(s3_server.url).put_object(
        Bucket=s3_storage["AWS_STORAGE_BUCKET_NAME"], Key="selfies/9/stray.jpg", Body=b"x"
    )
    listed = purge_orphan_files(now=later, dry_run=True).orphans
    assert [stored.name for stored in listed] == ["selfies/9/stray.jpg"]
    # Listing works but deleting fails: the bucket refuses deletions (a policy, say).
    client = s3_client(s3_server.url)
    bucket = s3_storage["AWS_STORAGE_BUCKET_NAME"]
    client.put_bucket_policy(
        Bucket=bucket,
        Policy=(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", '
            f'"Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::{bucket}/*"}}]}}'
        ),
    )

    report = purge_orphan_files(now=later)

    assert report.failed == ["selfies/9/stray.jpg"]
    assert "selfies/9/stray.jpg" in bucket_keys(s3_storage)


def test_an_account_deleted_while_s3_is_out_of_reach_leaves_objects_the_sweep_removes(
    client, s3_storage, s3_proxy, alice, bob, django_capture_on_commit_callbacks
):
    make_finished_job(alice)
    bobs = set(bucket_keys(s3_storage))
    make_finished_job(bob)
    bobs = set(bucket_keys(s3_storage)) - bobs
    client.force_login(alice)
    s3_proxy.cut()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account-delete"), {"password": "alice-password-1", "confirm": "on"}
        )
    assert s3_proxy.refused > 0
    s3_proxy.restore()
    # The account is gone all the same; her objects are left with no row naming them.
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    alices = set(bucket_keys(s3_storage)) - bobs
    assert len(alices) == 3

    report = purge_orphan_files(now=timezone.now() + timedelta(hours=2))

    assert sorted(stored.name for stored in report.orphans) == sorted(alices)
    assert set(bucket_keys(s3_storage)) == bobs


def test_a_storage_out_of_reach_stops_the_command_deleting_nothing(s3_storage, s3_proxy, alice):
    make_finished_job(alice)
    s3_proxy.cut()

    with pytest.raises(CommandError, match="could not be listed .*nothing was deleted"):
        _purge()

    assert s3_proxy.refused > 0
    assert len(bucket_keys(s3_storage)) == 3


def test_beat_runs_the_orphan_purge_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-orphan-files"]

    assert entry["task"] == "avatars.purge_orphan_files"
    assert entry["schedule"].run_every == timedelta(days=1)
    assert entry["task"] in celery_app.tasks


def test_the_beat_task_removes_an_old_orphan_and_keeps_a_young_one_and_files_in_use(
    media_root, alice, eager_tasks
):
    job = make_finished_job(alice)
    in_use = _files_under(media_root)
    assert job.selfie.name in in_use and len(in_use) == 3  # the selfie, the avatar, its thumbnail
    old_orphan = f"avatars/{alice.pk}/gone-job/1-0.png"
    young_orphan = f"selfies/{alice.pk}/being-uploaded.jpg"  # its row is not committed yet
    for name in (old_orphan, young_orphan):
        (media_root / name).parent.mkdir(parents=True, exist_ok=True)
        (media_root / name).write_bytes(b"orphan")
    two_hours_ago = time.time() - 2 * 60 * 60
    # Files in use are as old as the orphan: only the rows protect them.
    for name in (old_orphan, *in_use):
        os.utime(media_root / name, (two_hours_ago, two_hours_ago))

    result = celery_app.tasks["avatars.purge_orphan_files"].delay()

    assert result.get() == 1
    assert _files_under(media_root) == sorted([*in_use, young_orphan])


def test_the_beat_task_deletes_nothing_while_the_storage_is_out_of_reach(
    s3_storage, s3_proxy, alice, eager_tasks, caplog
):
    make_finished_job(alice)
    s3_proxy.cut()

    result = celery_app.tasks["avatars.purge_orphan_files"].delay()

    assert result.get() == 0
    assert s3_proxy.refused > 0
    assert "orphan files not purged: the media storage could not be listed" in caplog.text
    assert len(bucket_keys(s3_storage)) == 3
