"""Each refusal is said once: the browser, the API and the admin refuse the same case with the
same words, because all three call the same service and show its ``Refused`` reason.

Every test drives each door that offers the action, and checks that nothing changed.
"""

import html

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from avatar_studio import fashn
from avatar_studio.avatars import refusals, services
from avatar_studio.avatars.models import AvatarJob, JobStatus, ReviewState
from avatar_studio.avatars.pipeline.failures import message_for
from avatar_studio.avatars.review import services as review

from ..support.faces import astronaut_jpeg, flat_image
from ..support.jobs import end_job, make_finished_job, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(
        "sam", email="sam@example.com", password="sam-password-1"
    )


def browser_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def api_client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def admin_action(client, action, job, **extra):
    return client.post(
        reverse("admin:avatars_avatarjob_changelist"),
        {"action": action, "_selected_action": [str(job.pk)], **extra},
        follow=True,
    )


def retry_through_every_door(client, owner, staff_user, job):
    """What the browser, the API and the admin say when asked to retry ``job``."""
    client.force_login(owner)
    page = client.post(reverse("avatars:job-retry", args=[job.pk]), follow=True)
    api = api_client(owner).post(f"/api/v1/avatars/{job.pk}/retry/", {}, format="json")
    client.force_login(staff_user)
    admin = admin_action(client, "retry_failed", job)
    return browser_messages(page), api, browser_messages(admin)


def assert_said_everywhere(reason, said):
    browser, api, admin = said
    assert reason.message in browser
    assert api.status_code == 409
    assert api.json()["error"] == {"code": reason.code, "message": reason.message, "fields": {}}
    assert f"Skipped 1 job. 1 job: {reason.message}" in admin


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda owner: make_finished_job(owner), refusals.RETRY_COMPLETED),
        (lambda owner: make_job(owner), refusals.RETRY_RUNNING),
    ],
    ids=["completed", "running"],
)
def test_retrying_an_avatar_that_did_not_fail_is_refused_alike(
    client, alice, superuser, make, reason
):
    job = make(alice)
    before = AvatarJob.objects.values("status", "step_token", "seed").get(pk=job.pk)

    assert_said_everywhere(reason, retry_through_every_door(client, alice, superuser, job))

    assert AvatarJob.objects.values("status", "step_token", "seed").get(pk=job.pk) == before


def test_retrying_a_failed_avatar_whose_selfie_is_gone_is_refused_alike(client, alice, superuser):
    job = make_finished_job(alice, status="failed")
    job.selfie.delete(save=True)  # as the retention purge leaves it

    said = retry_through_every_door(client, alice, superuser, job)

    assert_said_everywhere(refusals.SELFIE_GONE, said)
    assert AvatarJob.objects.get(pk=job.pk).status == JobStatus.FAILED


@pytest.mark.parametrize("new_seed", [False, True], ids=["same-seed", "new-seed"])
def test_retrying_an_avatar_whose_photo_was_refused_is_refused_alike(
    client, alice, superuser, new_seed
):
    # No face found: the same selfie fails again, whatever the seed.
    job = make_finished_job(alice, status="failed", error_name="InputValidationError")
    before = AvatarJob.objects.values("status", "step_token", "seed", "error_name").get(pk=job.pk)
    reason = refusals.INPUT_REJECTED["InputValidationError"]

    client.force_login(alice)
    page = client.post(
        reverse("avatars:job-retry", args=[job.pk]),
        {"new_seed": "on"} if new_seed else {},
        follow=True,
    )
    api = api_client(alice).post(
        f"/api/v1/avatars/{job.pk}/retry/", {"new_seed": new_seed}, format="json"
    )
    client.force_login(superuser)
    admin = admin_action(client, "rerun_with_new_seed" if new_seed else "retry_failed", job)

    assert reason.code == "input_rejected"
    assert message_for("InputValidationError") in reason.message
    assert_said_everywhere(reason, (browser_messages(page), api, browser_messages(admin)))
    after = AvatarJob.objects.values("status", "step_token", "seed", "error_name").get(pk=job.pk)
    assert after == before
    assert job.attempts.count() == 1


def test_every_permanent_input_error_has_its_own_refusal():
    assert set(refusals.INPUT_REJECTED) == fashn.PERMANENT_RUNTIME_ERRORS
    for error_name, reason in refusals.INPUT_REJECTED.items():
        assert message_for(error_name) in reason.message


def test_a_try_on_whose_inputs_were_refused_speaks_of_its_garment_and_avatar(alice):
    avatar = make_finished_job(alice)
    tryon = services.create_tryon(
        owner=alice, model_result=avatar.results.get(), garment_png=flat_image(), category="tops"
    )
    tryon = end_job(tryon, status="failed", error_name="PoseError")

    reason = services.retry_refusal(tryon)

    assert tryon.error_message == message_for("PoseError", tryon=True)
    assert "avatar" in tryon.error_message and "selfie" not in tryon.error_message
    assert reason is refusals.TRYON_INPUT_REJECTED["PoseError"]
    assert tryon.error_message in reason.message
    assert "Upload another photo" not in reason.message


def test_every_permanent_input_error_of_a_try_on_has_its_own_refusal():
    assert set(refusals.TRYON_INPUT_REJECTED) == fashn.PERMANENT_RUNTIME_ERRORS
    for error_name, reason in refusals.TRYON_INPUT_REJECTED.items():
        assert message_for(error_name, tryon=True) in reason.message
        assert message_for(error_name, tryon=True) != message_for(error_name)


def test_the_daily_allowance_is_refused_alike_by_the_form_and_the_api(client, alice, settings):
    settings.AVATAR_DAILY_CREDITS = 2
    make_job(alice)  # today's only avatar: 2 credits
    client.force_login(alice)

    page = client.post(
        reverse("avatars:upload"),
        {
            "face_image": _upload(),
            "aspect_ratio": "2:3",
            "output_format": "jpeg",
            "consent": "on",
        },
    )
    api = api_client(alice).post(
        "/api/v1/avatars/",
        {"face_image": _upload(), "consent": "true"},
        format="multipart",
    )

    assert page.status_code == api.status_code == 429
    message = api.json()["error"]["message"]
    assert api.json()["error"]["code"] == "quota_exceeded"
    assert message.startswith("You've used all 2 credits of today's allowance")
    assert html.escape(message) in page.content.decode()
    assert AvatarJob.objects.filter(owner=alice).count() == 1


def test_offering_a_failed_avatar_is_refused_in_the_refusals_words(client, alice):
    job = make_finished_job(alice, status="failed")
    client.force_login(alice)

    page = client.post(reverse("avatars:showcase-offer", args=[job.pk]), follow=True)

    assert refusals.NOTHING_TO_SHOW.message in browser_messages(page)
    assert AvatarJob.objects.get(pk=job.pk).review_state == ReviewState.PRIVATE


def test_approving_an_avatar_nobody_offered_is_refused_in_the_refusals_words(
    client, alice, superuser
):
    job = make_finished_job(alice)
    client.force_login(superuser)

    admin = admin_action(client, "approve_for_display", job)

    assert f"Skipped 1 job. 1 job: {refusals.NOT_OFFERED.message}" in browser_messages(admin)
    with pytest.raises(refusals.Refused) as refused:
        review.approve(job, reviewer=superuser)
    assert refused.value.reason == refusals.NOT_OFFERED
    assert AvatarJob.objects.get(pk=job.pk).review_state == ReviewState.PRIVATE


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("selfie.jpg", astronaut_jpeg(), content_type="image/jpeg")


@pytest.mark.parametrize(
    "prepare, url_name, reason",
    [
        (lambda job: None, "avatars:showcase-withdraw", refusals.NOT_OFFERED),
        (review.offer_for_display, "avatars:showcase-offer", refusals.ALREADY_OFFERED),
    ],
    ids=["withdraw-private", "offer-twice"],
)
def test_the_owners_display_choices_are_refused_in_the_refusals_words(
    client, alice, prepare, url_name, reason
):
    job = make_finished_job(alice)
    prepare(job)
    before = AvatarJob.objects.values("review_state", "public_consent_at").get(pk=job.pk)
    client.force_login(alice)

    page = client.post(reverse(url_name, args=[job.pk]), follow=True)

    assert reason.message in browser_messages(page)
    assert AvatarJob.objects.values("review_state", "public_consent_at").get(pk=job.pk) == before


def test_sharing_an_avatar_still_being_made_is_refused_in_the_refusals_words(client, alice):
    job = make_job(alice)
    client.force_login(alice)

    page = client.post(reverse("avatars:share-create", args=[job.pk]), {"days": 7}, follow=True)

    assert refusals.NOT_MADE_YET.message in browser_messages(page)
    assert not job.share_links.exists()


def test_rejecting_twice_is_refused_in_the_refusals_words(client, alice, superuser):
    job = make_finished_job(alice)
    review.offer_for_display(job)
    review.reject(job, reviewer=superuser, reason="The face is cut off.")
    client.force_login(superuser)

    admin = admin_action(client, "reject_for_display", job, apply="1", reason="Again.")

    assert f"Skipped 1 job. 1 job: {refusals.ALREADY_REJECTED.message}" in browser_messages(admin)
    assert AvatarJob.objects.get(pk=job.pk).review_reason == "The face is cut off."
