"""The candidates journey through the API with a token: four images at 2k in the best quality,
their cost in the response, made by a real Celery worker against the offline engine, one picked,
and that one standing for the avatar in the gallery, share links and the store.

Values not offered (``num_images`` 0 and 5, ``resolution`` "8k", ``generation_mode`` "best")
are refused by tests/api/test_create_options.py; an unknown field is refused here.
"""

import base64

import pytest
from django.urls import reverse

from avatar_studio.avatars import options, selectors, sharing
from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.shop import selectors as shop_selectors

from ..support.faces import astronaut_jpeg
from ..support.waiting import wait_for

URL = "/api/v1/avatars/"
CHOSEN = {"generation_mode": "quality", "resolution": "2k", "num_images": 4}


def _data_uri():
    return "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg()).decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_four_candidates_at_2k_best_quality_one_picked_through_the_api(
    start_worker, engine, alice, alice_api, client, settings
):
    settings.AVATAR_MAX_RESOLUTION = "2k"
    start_worker()

    response = alice_api.post(
        URL,
        {"face_image": _data_uri(), "consent": True, "prompt": "athletic build", **CHOSEN},
        format="json",
    )

    assert response.status_code == 201, response.content
    created = response.json()
    expected = options.estimated_credits(CHOSEN)
    assert expected == 16  # quality at 2k is 4 credits an image (FASHN's table)
    assert created["credits"] == expected
    assert {name: created[name] for name in CHOSEN} == CHOSEN

    def finished():
        body = alice_api.get(created["url"]).json()
        return body if body["status"] in (JobStatus.COMPLETED, JobStatus.FAILED) else None

    avatar = wait_for(finished, timeout=120, message="the avatar to be made")
    assert avatar["status"] == JobStatus.COMPLETED, avatar["error_message"]
    assert avatar["credits"] == expected
    assert engine.stats()["credits_used"] == expected  # what FASHN charged is what was stated
    assert [result["index"] for result in avatar["results"]] == [0, 1, 2, 3]
    assert avatar["chosen_index"] == 0  # before a pick, the first
    images = []
    for result in avatar["results"]:
        assert result["width"] * result["height"] > 3_000_000  # 2k: about 4 megapixels
        image = alice_api.get(result["image_url"])
        assert image.status_code == 200
        images.append(b"".join(image.streaming_content))
    assert len(set(images)) == 4  # four distinct candidates

    picked = alice_api.post(f"{created['url']}pick/", {"index": 2}, format="json")

    assert picked.status_code == 200, picked.content
    assert picked.json()["chosen_index"] == 2
    assert alice_api.get(created["url"]).json()["chosen_index"] == 2
    job = AvatarJob.objects.get(pk=created["id"])
    chosen = job.avatar_result
    assert chosen.index == 2
    # The gallery and the store show that image.
    assert selectors.gallery_jobs(alice, "all").get().avatar_result == chosen
    assert [j.avatar_result for j in shop_selectors.own_avatars(alice)] == [chosen]
    # A share link shows that image and no other.
    link = sharing.create_share_link(job, days=7)
    for index in range(4):
        shared = client.get(reverse("avatars:shared-image", args=[link.token, index]))
        assert shared.status_code == (200 if index == 2 else 404), index
    shared = client.get(reverse("avatars:shared-image", args=[link.token, 2]))
    assert b"".join(shared.streaming_content) == images[2]
