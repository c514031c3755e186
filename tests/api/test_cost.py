"""GET /api/v1/avatars/cost/: what an avatar with given choices would cost, asked before it is
sent, from the same table and the same validation as the create request."""

import base64

import pytest
from rest_framework.test import APIClient

from avatar_studio.avatars import quota
from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg

pytestmark = pytest.mark.django_db

URL = "/api/v1/avatars/cost/"


def test_four_candidates_at_2k_in_best_quality_cost_16_credits(alice_api, alice):
    response = alice_api.get(
        URL, {"generation_mode": "quality", "resolution": "2k", "num_images": "4"}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "aspect_ratio": "2:3",
        "generation_mode": "quality",
        "resolution": "2k",
        "num_images": 4,
        "width": 1664,
        "height": 2496,
        "credits": 16,  # 4 credits an image at quality, 2k (FASHN's table)
    }
    assert response["X-Credits-Left-Today"] == str(quota.left_today(alice))


def test_left_out_the_choices_take_the_settings_defaults(alice_api, settings):
    settings.AVATAR_DEFAULT_GENERATION_MODE = "fast"
    settings.AVATAR_DEFAULT_NUM_IMAGES = 3

    body = alice_api.get(URL, {"aspect_ratio": "1:1"}).json()

    assert (body["generation_mode"], body["resolution"], body["num_images"]) == ("fast", "1k", 3)
    assert (body["width"], body["height"], body["credits"]) == (1024, 1024, 3)


def test_the_answer_is_what_the_create_request_then_states(alice_api):
    choices = {"generation_mode": "balanced", "resolution": "2k", "num_images": 2}
    quoted = alice_api.get(URL, choices).json()["credits"]

    selfie = "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg()).decode()
    created = alice_api.post(
        "/api/v1/avatars/", {"face_image": selfie, "consent": True, **choices}, format="json"
    )

    assert created.status_code == 201, created.content
    assert created.json()["credits"] == quoted == 6


@pytest.mark.parametrize(
    "field, value",
    [
        ("num_images", "0"),
        ("num_images", "5"),
        ("resolution", "8k"),
        ("resolution", "4k"),  # in the protocol, over this service's maximum
        ("generation_mode", "best"),
        ("resolution", ""),
        ("colour", "red"),  # not a field of this question at all
    ],
)
def test_a_choice_not_offered_is_refused_by_name(alice_api, field, value):
    response = alice_api.get(URL, {field: value})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not AvatarJob.objects.exists()


def test_only_for_signed_in_clients():
    assert APIClient().get(URL).status_code == 401


def test_the_schema_describes_the_question_and_its_answer(client):
    spec = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operation = spec["paths"]["/api/v1/avatars/cost/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "aspect_ratio",
        "generation_mode",
        "resolution",
        "num_images",
    }
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    answer_schema = spec["components"]["schemas"][answer.rsplit("/", 1)[-1]]
    assert {"credits", "width", "height"} <= set(answer_schema["properties"])
