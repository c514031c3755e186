"""Outfits through the real pipeline: a Celery worker, Redis and the offline engine. The bottoms
go on over the picture of the top: the engine receives step 1's picture as the model image."""

import base64

import pytest
from django.urls import reverse

from avatar_studio.avatars.models import JobStatus
from avatar_studio.shop.models import Outfit

from ..support.jobs import make_job, wait_until_finished
from ..support.waiting import wait_for
from .test_outfits import TOP, make_bottoms

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_store"),
]


def start(client, avatar, bottoms):
    response = client.post(
        reverse("shop:outfit-start"),
        {"avatar": avatar.results.get().pk, "product": [TOP, bottoms.slug]},
    )
    assert response.status_code == 302
    return Outfit.objects.get()


def model_image_sent(engine, job):
    """The model image the engine received for ``job``'s last attempt, decoded."""
    attempt = job.attempts.order_by("number").last()
    prediction = engine.app.store.get(attempt.prediction_id)
    data_uri = prediction.inputs.model_image
    return base64.b64decode(data_uri.split(",", 1)[1])


def test_the_bottoms_go_on_over_the_picture_of_the_top(client, start_worker, engine, alice):
    start_worker()
    bottoms = make_bottoms()
    avatar = wait_until_finished(make_job(alice, output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    client.force_login(alice)

    outfit = start(client, avatar, bottoms)
    first, second = outfit.steps.all()
    top_job = wait_until_finished(first.tryon.job)
    assert top_job.status == JobStatus.COMPLETED, top_job.error_message
    # The receiver starts step 2 once step 1 has completed.
    wait_for(lambda: outfit.steps.get(order=2).tryon_id is not None)
    second.refresh_from_db()
    bottoms_job = wait_until_finished(second.tryon.job)

    assert bottoms_job.status == JobStatus.COMPLETED, bottoms_job.error_message
    top_picture = top_job.results.get()
    assert second.tryon.avatar_result == top_picture
    with top_picture.image.open("rb") as file:
        top_bytes = file.read()
    sent = model_image_sent(engine, bottoms_job)
    assert sent == top_bytes
    assert engine.stats()["runs_accepted"] == 3  # the avatar, the top, the bottoms

    page = client.get(reverse("shop:outfit", args=[outfit.pk])).content.decode()
    assert page.count('class="outfit-step" data-status="completed"') == 2
    for order in (1, 2):
        image = client.get(reverse("shop:outfit-step-image", args=[outfit.pk, order]))
        assert image.status_code == 200


def test_a_failed_top_stops_the_outfit_with_a_message(client, start_worker, engine, alice):
    start_worker()
    bottoms = make_bottoms()
    avatar = wait_until_finished(make_job(alice, output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    engine.add_faults({"on": "prediction", "error_name": "PoseError", "times": 1})
    client.force_login(alice)

    outfit = start(client, avatar, bottoms)
    first, second = outfit.steps.all()
    top_job = wait_until_finished(first.tryon.job)

    assert top_job.status == JobStatus.FAILED
    assert top_job.attempts.get().error_name == "PoseError"  # the injected fault hit
    second.refresh_from_db()
    assert second.tryon is None
    assert engine.stats()["runs_accepted"] == 2  # the avatar and the top: no bottoms
    page = client.get(reverse("shop:outfit", args=[outfit.pk])).content.decode()
    assert "This outfit stopped: the essential crew tee could not be put on." in page
    assert "Not started: the garment before it could not be put on." in page
    assert "hx-trigger" not in page  # nothing more to wait for
