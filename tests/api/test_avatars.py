"""Reading, listing, retrying and deleting avatars through the API; other people's are 404."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from avatar_studio.avatars.models import AvatarJob
from avatar_studio.avatars.refusals import INPUT_REJECTED, RETRY_COMPLETED, RETRY_RUNNING

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db


def _detail(job):
    return f"/api/v1/avatars/{job.pk}/"


def _error(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


# --- read one ---------------------------------------------------------------------------------


def test_a_queued_avatar_shows_its_status_and_progress(alice_api, alice):
    job = make_job(alice)
    # Uploaded 95 s ago: the elapsed time is counted from the upload up to the request.
    created = timezone.now() - timedelta(seconds=95)
    AvatarJob.objects.filter(pk=job.pk).update(created_at=created)

    before = timezone.now()
    body = alice_api.get(_detail(job)).json()
    after = timezone.now()

    assert body["id"] == str(job.pk)
    assert body["status"] == "queued"
    elapsed = body["progress"]["elapsed_seconds"]
    assert int((before - created).total_seconds()) <= elapsed <= (after - created).total_seconds()
    assert body["progress"] == {
        "step": "Queued",
        "percent": 5,
        "elapsed_seconds": elapsed,
        "is_active": True,
    }
    assert body["error_name"] == body["error_message"] == ""
    assert body["results"] == []
    assert (body["prompt"], body["aspect_ratio"], body["seed"]) == ("athletic build", "2:3", 42)


def test_a_completed_avatar_links_to_its_images(alice_api, alice):
    job = make_finished_job(alice)
    # Uploaded 125 s before it finished, finished an hour ago: the elapsed time is the 125 s.
    finished = timezone.now() - timedelta(hours=1)
    AvatarJob.objects.filter(pk=job.pk).update(
        created_at=finished - timedelta(seconds=125), finished_at=finished
    )

    body = alice_api.get(_detail(job)).json()

    assert body["status"] == "completed"
    assert body["progress"]["percent"] == 100 and body["progress"]["is_active"] is False
    assert body["progress"]["elapsed_seconds"] == 125
    [result] = body["results"]
    base = f"http://testserver/api/v1/avatars/{job.pk}/results/0/"
    assert result["image_url"] == base
    assert result["thumbnail_url"] == base + "thumbnail/"
    assert (result["width"], result["height"], result["content_type"]) == (64, 96, "image/png")

    image = alice_api.get(result["image_url"], HTTP_ACCEPT="image/*")
    assert image.status_code == 200
    assert b"".join(image.streaming_content)[:4] == b"\x89PNG"
    assert alice_api.get(result["thumbnail_url"]).status_code == 200


def test_a_failed_avatar_says_what_happened_and_what_to_do(alice_api, alice):
    job = make_finished_job(alice, status="failed", error_name="ContentModerationError")

    body = alice_api.get(_detail(job)).json()

    assert body["status"] == "failed"
    assert body["error_name"] == "ContentModerationError"
    assert body["error_message"].startswith("The avatar service refused this photo")
    assert body["error_message"] == AvatarJob.objects.get(pk=job.pk).error_message


def test_a_missing_result_image_is_404(alice_api, alice):
    job = make_finished_job(alice)

    response = alice_api.get(f"/api/v1/avatars/{job.pk}/results/5/")

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


# --- other people's avatars -------------------------------------------------------------------


def _others_requests(job):
    base = _detail(job)
    return [
        ("get", base),
        ("delete", base),
        ("post", base + "retry/"),
        ("get", base + "results/0/"),
        ("get", base + "results/0/thumbnail/"),
    ]


def test_bob_cannot_see_or_touch_alices_avatar_and_learns_nothing(bob_api, alice):
    job = make_finished_job(alice, status="failed")
    unknown = uuid.uuid4()

    for method, url in _others_requests(job):
        response = getattr(bob_api, method)(url)
        missing = getattr(bob_api, method)(url.replace(str(job.pk), str(unknown)))

        assert response.status_code == 404, (method, url)
        assert (
            response.json()
            == missing.json()
            == {"error": {"code": "not_found", "message": "No such avatar.", "fields": {}}}
        )
    assert AvatarJob.objects.get(pk=job.pk).status == "failed"  # neither retried nor deleted


def test_staff_tokens_act_as_their_own_user_in_the_api(staff_api, alice):
    job = make_finished_job(alice)

    assert staff_api.get(_detail(job)).status_code == 404
    assert staff_api.get("/api/v1/avatars/").json()["count"] == 0


# --- list -------------------------------------------------------------------------------------


def test_the_list_shows_only_ones_own_avatars_newest_first(alice_api, alice, bob):
    first = make_job(alice)
    second = make_finished_job(alice)
    make_job(bob)

    body = alice_api.get("/api/v1/avatars/").json()

    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(second.pk), str(first.pk)]
    assert body["next"] is None and body["previous"] is None


def test_the_list_is_paginated_and_filtered_by_status(alice_api, alice):
    jobs = [make_job(alice) for _ in range(3)]
    done = make_finished_job(alice)

    page = alice_api.get("/api/v1/avatars/?page_size=2").json()
    assert page["count"] == 4 and len(page["results"]) == 2
    second = alice_api.get(page["next"]).json()
    assert len(second["results"]) == 2
    assert {item["id"] for item in page["results"] + second["results"]} == {
        str(job.pk) for job in [*jobs, done]
    }

    completed = alice_api.get("/api/v1/avatars/?status=completed").json()
    assert [item["id"] for item in completed["results"]] == [str(done.pk)]
    assert alice_api.get("/api/v1/avatars/?status=active").json()["count"] == 3


def test_the_list_takes_a_constant_number_of_queries(
    alice_api, alice, django_assert_max_num_queries
):
    for _ in range(5):
        make_finished_job(alice)

    # token lookup, count, page, results prefetch
    with django_assert_max_num_queries(4):
        assert alice_api.get("/api/v1/avatars/").json()["count"] == 5


def test_a_page_past_the_end_is_404_in_the_api_shape(alice_api, alice):
    make_job(alice)

    response = alice_api.get("/api/v1/avatars/?page=9")

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


# --- retry ------------------------------------------------------------------------------------


@pytest.mark.parametrize("request_body", [{}, {"new_seed": False}])
def test_a_failed_avatar_can_be_retried_with_the_same_seed(
    alice_api, alice, django_capture_on_commit_callbacks, request_body
):
    job = make_finished_job(alice, status="failed", seed=7)

    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_api.post(_detail(job) + "retry/", request_body, format="json")

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["seed"], body["error_name"]) == ("queued", 7, "")
    assert AvatarJob.objects.get(pk=job.pk).seed == 7  # what the next submission will send
    assert len(callbacks) == 1  # the submit step


def test_a_retry_can_ask_for_a_new_seed(alice_api, alice):
    job = make_finished_job(alice, status="failed", seed=7)

    response = alice_api.post(_detail(job) + "retry/", {"new_seed": True}, format="json")

    assert response.status_code == 202
    seed = response.json()["seed"]
    # A random seed is 7 again once in 2**32 retries: a seed left as it was fails here.
    assert seed != 7
    assert AvatarJob.objects.get(pk=job.pk).seed == seed


@pytest.mark.parametrize(
    "status, reason", [("completed", RETRY_COMPLETED), ("queued", RETRY_RUNNING)]
)
def test_only_a_failed_avatar_can_be_retried(alice_api, alice, status, reason):
    job = make_finished_job(alice) if status == "completed" else make_job(alice)

    response = alice_api.post(_detail(job) + "retry/", {}, format="json")

    assert response.status_code == 409
    assert _error(response) == {"code": "not_failed", "message": reason.message, "fields": {}}
    assert AvatarJob.objects.get(pk=job.pk).status == status


@pytest.mark.parametrize("new_seed", [False, True])
def test_an_avatar_whose_photo_was_refused_cannot_be_retried(alice_api, alice, new_seed):
    job = make_finished_job(alice, status="failed", error_name="ContentModerationError", seed=7)

    response = alice_api.post(_detail(job) + "retry/", {"new_seed": new_seed}, format="json")

    assert response.status_code == 409
    reason = INPUT_REJECTED["ContentModerationError"]
    assert _error(response) == {"code": "input_rejected", "message": reason.message, "fields": {}}
    assert AvatarJob.objects.values_list("status", "seed").get(pk=job.pk) == ("failed", 7)


def test_a_failed_avatar_whose_selfie_was_purged_cannot_be_retried(alice_api, alice):
    job = make_finished_job(alice, status="failed")
    job.selfie.delete(save=True)  # as the retention purge leaves it

    response = alice_api.post(_detail(job) + "retry/", {}, format="json")

    assert response.status_code == 409
    assert "Upload your selfie once more" in _error(response)["message"]
    assert AvatarJob.objects.get(pk=job.pk).status == "failed"


def test_a_bad_retry_field_is_named(alice_api, alice):
    job = make_finished_job(alice, status="failed")

    response = alice_api.post(_detail(job) + "retry/", {"new_seed": "perhaps"}, format="json")

    assert response.status_code == 400
    assert list(_error(response)["fields"]) == ["new_seed"]


# --- delete -----------------------------------------------------------------------------------


def test_deleting_an_avatar_removes_the_job_and_every_file(
    alice_api, alice, django_capture_on_commit_callbacks
):
    job = make_finished_job(alice)
    files = [job.selfie.name] + [
        name for result in job.results.all() for name in (result.image.name, result.thumbnail.name)
    ]
    assert all(default_storage.exists(name) for name in files)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(_detail(job))

    assert response.status_code == 204
    assert not AvatarJob.objects.filter(pk=job.pk).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert alice_api.get(_detail(job)).status_code == 404
