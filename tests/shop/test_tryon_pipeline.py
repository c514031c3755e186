"""Try-ons through the real pipeline: a Celery worker, Redis and the offline engine's tryon-v1.6."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from avatar_studio.avatars.models import JobStatus
from avatar_studio.shop.models import Look

from ..support.jobs import make_job, wait_until_finished

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]


def test_see_it_on_me_dresses_the_avatar_through_the_pipeline(client, start_worker, engine, alice):
    start_worker()
    avatar = wait_until_finished(make_job(alice, output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    client.force_login(alice)

    client.post(
        reverse("shop:try-on", args=["sunset-logo-tee"]), {"avatar": avatar.results.get().pk}
    )
    look = Look.objects.get()
    job = wait_until_finished(look.tryon.job)

    assert job.status == JobStatus.COMPLETED, job.error_message
    [attempt] = job.attempts.all()
    assert attempt.credits_used == 1
    assert engine.stats()["runs_accepted"] == 2  # the avatar, then the try-on
    response = client.get(reverse("shop:look-image", args=[look.pk]))
    picture = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    avatar_image = Image.open(avatar.results.get().image.path)
    assert picture.size == avatar_image.size
    # The coral tee is on the torso: below the face, in the middle, the picture is coral.
    red, green, blue = picture.convert("RGB").resize((8, 12)).getpixel((4, 8))
    assert red > green + 40 and red > blue + 40
