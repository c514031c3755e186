"""Candidates through the API: pick one image as the avatar, discard the others, remake one in
high quality; the avatar says which image is chosen and where a remake came from."""

import pytest

from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.avatars.refusals import NO_SUCH_IMAGE, NOT_MADE_YET, REMAKE_SELFIE_GONE

from ..privacy.conftest import run_pipeline_in_process
from ..support.jobs import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidates(engine, alice, fast_pipeline, settings):
    settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS = 24
    settings.AVATAR_MAX_RESOLUTION = "2k"
    job = run_pipeline_in_process(
        make_job(alice, generation_mode="fast", resolution="1k", num_images=3, seed=7)
    )
    assert job.status == JobStatus.COMPLETED, job.error_message
    return job


def _url(job, action):
    return f"/api/v1/avatars/{job.pk}/{action}/"


def _error(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_the_avatar_says_which_image_is_chosen(alice_api, candidates):
    body = alice_api.get(f"/api/v1/avatars/{candidates.pk}/").json()

    assert body["chosen_index"] == 0
    assert body["origin"] is None
    assert [result["index"] for result in body["results"]] == [0, 1, 2]


def test_a_pick_makes_that_image_the_avatar(alice_api, candidates):
    response = alice_api.post(_url(candidates, "pick"), {"index": 2}, format="json")

    assert response.status_code == 200
    assert response.json()["chosen_index"] == 2
    assert AvatarJob.objects.get(pk=candidates.pk).avatar_result.index == 2
    listed = alice_api.get("/api/v1/avatars/").json()["results"]
    assert [item["chosen_index"] for item in listed] == [2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "index"),
        ({"index": -1}, "index"),
        ({"index": "two"}, "index"),
        ({"index": 1, "x": 1}, "x"),
    ],
)
def test_a_pick_with_a_bad_body_is_refused_by_field(alice_api, candidates, body, field):
    response = alice_api.post(_url(candidates, "pick"), body, format="json")

    assert response.status_code == 400
    assert field in _error(response)["fields"]
    assert AvatarJob.objects.get(pk=candidates.pk).chosen_result_id is None


def test_a_pick_of_a_missing_image_or_on_a_running_avatar_is_a_conflict(
    alice_api, alice, candidates
):
    missing = alice_api.post(_url(candidates, "pick"), {"index": 3}, format="json")
    running = alice_api.post(_url(make_job(alice), "pick"), {"index": 0}, format="json")

    assert missing.status_code == running.status_code == 409
    assert _error(missing)["code"] == NO_SUCH_IMAGE.code
    assert _error(missing)["message"] == NO_SUCH_IMAGE.message
    assert _error(running)["message"] == NOT_MADE_YET.message
    assert AvatarJob.objects.get(pk=candidates.pk).chosen_result_id is None


def test_someone_elses_avatar_is_not_found(bob_api, candidates):
    for action in ("pick", "remake", "discard-others"):
        response = bob_api.post(_url(candidates, action), {"index": 0}, format="json")
        assert response.status_code == 404, action
    assert AvatarJob.objects.count() == 1
    assert candidates.results.count() == 3


def test_discarding_the_others_keeps_the_chosen_one(alice_api, candidates):
    alice_api.post(_url(candidates, "pick"), {"index": 1}, format="json")

    response = alice_api.post(_url(candidates, "discard-others"))

    assert response.status_code == 200
    body = response.json()
    assert [result["index"] for result in body["results"]] == [1]
    assert body["chosen_index"] == 1


def test_a_remake_is_a_new_avatar_from_that_image_in_high_quality(alice_api, candidates):
    response = alice_api.post(_url(candidates, "remake"), {"index": 1}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["origin"].endswith(f"/api/v1/avatars/{candidates.pk}/")
    assert (body["seed"], body["num_images"]) == (8, 1)
    assert (body["generation_mode"], body["resolution"]) == ("quality", "2k")
    assert body["credits"] == 4  # quality at 2k, one image, from FASHN's table
    assert AvatarJob.objects.get(pk=body["id"]).origin_id == candidates.pk


def test_a_remake_after_the_selfie_was_purged_is_refused(alice_api, candidates):
    from avatar_studio.avatars import retention

    assert retention.purge_selfie(candidates)

    response = alice_api.post(_url(candidates, "remake"), {"index": 0}, format="json")

    assert response.status_code == 409
    assert _error(response)["message"] == REMAKE_SELFIE_GONE.message
    assert AvatarJob.objects.count() == 1


def test_a_remake_over_the_daily_quota_is_429(alice_api, alice, candidates, settings):
    from avatar_studio.avatars import options, quota, services

    # One credit short of what the remake needs.
    remake_cost = options.estimated_credits(services.remake_options())
    settings.AVATAR_DAILY_CREDITS = quota.used_today(alice) + remake_cost - 1

    response = alice_api.post(_url(candidates, "remake"), {"index": 0}, format="json")

    assert response.status_code == 429
    assert _error(response)["code"] == "quota_exceeded"
    assert AvatarJob.objects.count() == 1


def test_the_schema_describes_pick_remake_and_the_chosen_image(client):
    spec = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for action in ("pick", "remake", "discard-others"):
        assert f"/api/v1/avatars/{{job_id}}/{action}/" in spec["paths"]
    pick = spec["paths"]["/api/v1/avatars/{job_id}/pick/"]["post"]
    assert {"200", "400", "404", "409"} <= set(pick["responses"])
    candidate = spec["components"]["schemas"]["CandidateRequest"]
    assert candidate["required"] == ["index"]
    assert candidate["properties"]["index"]["minimum"] == 0
    avatar = spec["components"]["schemas"]["Avatar"]["properties"]
    assert {"chosen_index", "origin"} <= set(avatar)
    remake = spec["paths"]["/api/v1/avatars/{job_id}/remake/"]["post"]
    assert "201" in remake["responses"]
