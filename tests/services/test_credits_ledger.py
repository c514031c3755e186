"""The credits ledger: reservations hold under parallel requests, and a database that existed
before the ledger is backfilled from its jobs."""

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection

from avatar_studio.avatars import quota, services
from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.avatars.refusals import Refused
from avatar_studio.credits.models import CreditState, CreditUse

from ..support.faces import astronaut_jpeg
from ..support.jobs import as_selfie, make_finished_job, make_job

backfill = importlib.import_module("avatar_studio.credits.migrations.0001_ledger").backfill


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_never_reserve_past_the_allowance(alice, settings, media_root):
    settings.AVATAR_DAILY_CREDITS = 5  # two avatars at 2 credits fit, a third does not
    selfie = as_selfie(astronaut_jpeg())
    start = threading.Barrier(6)
    outcomes = []

    def create():
        try:
            start.wait()
            services.create_avatar(owner=alice, selfie=selfie, inputs={"aspect_ratio": "2:3"})
            outcomes.append("created")
        except Refused as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] * 2 + ["quota_exceeded"] * 4
    assert AvatarJob.objects.filter(owner=alice).count() == 2
    assert CreditUse.objects.filter(owner=alice).count() == 2
    assert quota.used_today(alice) == 4
    assert len([path for path in (media_root / "selfies").rglob("*") if path.is_file()]) == 2


@pytest.mark.django_db
def test_a_database_from_before_the_ledger_is_backfilled_from_its_jobs(alice, staff):
    completed = make_finished_job(alice)  # its prediction reported 1 credit
    failed = make_finished_job(alice, status="failed")
    running = make_job(alice, generation_mode="quality", num_images=2)  # 6 credits at most
    by_staff = make_finished_job(staff)
    CreditUse.objects.all().delete()  # as it was before the ledger

    backfill(apps, None)

    rows = {row.job_id: row for row in CreditUse.objects.all()}
    assert set(rows) == {completed.pk, running.pk, by_staff.pk}  # a failed job used nothing
    assert failed.pk not in rows
    done = rows[completed.pk]
    assert (done.state, done.estimated, done.charged, done.counted) == (
        CreditState.CHARGED,
        2,
        1,
        True,
    )
    assert done.created_at == completed.created_at
    assert done.settled_at == AvatarJob.objects.get(pk=completed.pk).finished_at
    assert (rows[running.pk].state, rows[running.pk].estimated) == (CreditState.RESERVED, 6)
    assert rows[by_staff.pk].counted is False
    assert quota.used_today(alice) == 1 + 6
    assert AvatarJob.objects.get(pk=running.pk).status == JobStatus.QUEUED


@pytest.mark.django_db
def test_the_ledger_is_read_only_in_the_admin(client, django_user_model, alice):
    job = make_finished_job(alice)
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-1")
    client.force_login(admin)

    listing = client.get("/admin/credits/credituse/")

    assert listing.status_code == 200
    assert str(job.pk) in listing.content.decode()
    row = CreditUse.objects.get(job_id=job.pk)
    assert client.get("/admin/credits/credituse/add/").status_code == 403
    assert client.post(f"/admin/credits/credituse/{row.pk}/delete/").status_code == 403
    assert CreditUse.objects.filter(pk=row.pk).exists()
