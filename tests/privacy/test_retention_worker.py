"""With a real worker: the selfie of a completed avatar is gone once the completion committed."""

import pytest
from django.core.files.storage import default_storage

from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..support.jobs import make_job, wait_until_finished
from ..support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_deletes_the_selfie_after_completing_the_avatar(start_worker, engine, alice):
    start_worker()
    job = make_job(alice)
    name = job.selfie.name
    assert default_storage.exists(name)

    job = wait_until_finished(job)
    assert job.status == JobStatus.COMPLETED

    wait_for(
        lambda: not AvatarJob.objects.get(pk=job.pk).selfie and not default_storage.exists(name),
        timeout=15,
        message="the selfie to be deleted",
    )
    [result] = AvatarJob.objects.get(pk=job.pk).results.all()
    assert default_storage.exists(result.image.name)
    assert default_storage.exists(result.thumbnail.name)
