"""The chosen quality, size and number of images reach FASHN's request through the pipeline, and
staff see them with their estimated credits in the admin."""

import pytest
from django.urls import reverse

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..admin.conftest import reviewers_group
from ..privacy.conftest import run_pipeline_in_process
from ..support.faces import astronaut_jpeg
from ..support.jobs import as_selfie, make_job

pytestmark = pytest.mark.django_db


def _sent_inputs(engine, job):
    """What the engine received for the job's prediction, read back from its store."""
    prediction = engine.app.store.get(job.attempts.get().prediction_id)
    return prediction.inputs


def test_the_chosen_values_reach_the_fashn_request(engine, alice, fast_pipeline):
    job = make_job(alice, generation_mode="fast", resolution="2k", num_images=2)

    job = run_pipeline_in_process(job)

    assert job.status == JobStatus.COMPLETED, job.error_message
    sent = _sent_inputs(engine, job)
    assert (sent.generation_mode, sent.resolution, sent.num_images) == ("fast", "2k", 2)
    assert job.results.count() == 2


def test_a_job_made_without_them_is_sent_with_the_settings_defaults(
    engine, alice, fast_pipeline, settings
):
    settings.AVATAR_DEFAULT_GENERATION_MODE = "fast"

    job = run_pipeline_in_process(make_job(alice))

    assert (job.generation_mode, job.resolution, job.num_images) == ("fast", "1k", 1)
    sent = _sent_inputs(engine, job)
    assert (sent.generation_mode, sent.resolution, sent.num_images) == ("fast", "1k", 1)


def test_the_service_refuses_a_value_over_the_maximum_and_stores_nothing(alice, media_root):
    with pytest.raises(ValueError, match="resolution must be one of: 1k, 2k"):
        services.create_avatar(
            owner=alice,
            selfie=as_selfie(astronaut_jpeg()),
            inputs={"prompt": "", "aspect_ratio": "2:3", "seed": 1, "resolution": "4k"},
        )

    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_the_admin_shows_the_options_and_the_estimated_credits(client, alice, django_user_model):
    staff = django_user_model.objects.create_user("rita", password="rita-password-1", is_staff=True)
    staff.groups.add(reviewers_group())
    job = make_job(alice, generation_mode="quality", resolution="2k", num_images=3)
    client.force_login(staff)

    page = client.get(reverse("admin:avatars_avatarjob_change", args=[job.pk])).content.decode()

    assert "Estimated credits" in page
    assert '<div class="readonly">12</div>' in page
    for value in ("quality", "2k", "3"):
        assert f'<div class="readonly">{value}</div>' in page
