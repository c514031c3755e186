"""The daily allowance counts FASHN credits: browser and API together, a clear message naming
what to change, nothing stored when refused, failures given back, staff exempt."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.avatars import options, quota, services
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionModel
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.refusals import Refused
from avatar_studio.credits.models import CreditState, CreditUse

from ..support.faces import astronaut_jpeg
from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db

# The default choices (balanced, 1k, one image) cost 2 credits: with 3 a day, the second is over.
ALLOWANCE = 3
CHEAPER = "Choose a quicker quality, a smaller image size or a lower number of images"
MESSAGE = (
    f"This avatar needs 2 credits and 1 of your 3 credits is left today. {CHEAPER}, "
    "or wait until the allowance resets at 00:00 UTC."
)
RETRY_MESSAGE = (
    "Retrying this avatar needs 2 credits and 1 of your 3 credits is left today. "
    "Retry it once the allowance resets at 00:00 UTC."
)


@pytest.fixture(autouse=True)
def _allowance(settings):
    settings.AVATAR_DAILY_CREDITS = ALLOWANCE


def _form(**choices):
    return {
        "face_image": SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg"),
        "prompt": "",
        "aspect_ratio": "2:3",
        "seed": "1",
        "output_format": "jpeg",
        "consent": "on",
        **choices,
    }


def _upload(client, **choices):
    return client.post(reverse("avatars:upload"), _form(**choices))


def _api(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _api_create(client, **choices):
    return client.post(
        "/api/v1/avatars/",
        {
            "face_image": SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg"),
            "consent": "true",
            **choices,
        },
        format="multipart",
    )


def _selfies(media_root):
    return sorted(path.name for path in (media_root / "selfies").rglob("*") if path.is_file())


def _page(client):
    return html.unescape(client.get(reverse("avatars:upload")).content.decode())


def test_the_form_refuses_a_request_over_the_credits_left_and_stores_nothing(
    client, alice, media_root
):
    client.force_login(alice)
    assert "3 of 3 credits left today" in _page(client)
    assert _upload(client).status_code == 302
    [job] = AvatarJob.objects.filter(owner=alice)
    assert "1 of 3 credits left today" in _page(client)

    refused = _upload(client)

    assert refused.status_code == 429
    assert MESSAGE in html.unescape(refused.content.decode())
    assert list(AvatarJob.objects.filter(owner=alice)) == [job]
    assert list(CreditUse.objects.values_list("job_id", flat=True)) == [job.pk]
    assert _selfies(media_root) == [f"{job.pk}.jpg"]
    # A request that fits what is left still goes through: fast at 1k is 1 credit.
    assert _upload(client, generation_mode="fast").status_code == 302
    page = _page(client)
    assert "0 of 3 credits left today" in page
    # Said before choosing a photo once nothing fits any more.
    assert "You've used all 3 credits of today's allowance; it resets at 00:00 UTC." in page


def test_the_api_refuses_a_request_over_the_credits_left_with_429_and_stores_nothing(
    alice, media_root
):
    api = _api(alice)
    created = _api_create(api)
    assert created.status_code == 201
    assert created["X-Credits-Left-Today"] == "1"

    response = _api_create(api)

    assert response.status_code == 429
    assert response.json() == {
        "error": {"code": "quota_exceeded", "message": MESSAGE, "fields": {}}
    }
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    assert AvatarJob.objects.filter(owner=alice).count() == 1
    assert CreditUse.objects.count() == 1
    assert len(_selfies(media_root)) == 1


def test_browser_and_api_share_the_allowance(client, alice):
    client.force_login(alice)
    assert _upload(client).status_code == 302

    api = _api(alice)
    assert _api_create(api).status_code == 429
    assert _api_create(api, generation_mode="fast").status_code == 201
    assert quota.used_today(alice) == 3


def test_a_request_dearer_than_the_whole_allowance_says_so(client, alice):
    client.force_login(alice)

    refused = _upload(client, num_images="2")  # 2 balanced images: 4 credits

    assert refused.status_code == 429
    assert (
        f"This avatar needs 4 credits, more than the daily allowance of 3 credits. {CHEAPER}."
        in html.unescape(refused.content.decode())
    )
    assert not AvatarJob.objects.exists()


def test_users_have_their_own_allowance_and_staff_none(client, alice, bob, staff):
    client.force_login(alice)
    _upload(client)
    assert _upload(client).status_code == 429

    client.force_login(bob)
    assert _upload(client).status_code == 302
    client.force_login(staff)
    assert "credits left today" not in _page(client)
    for _ in range(3):
        assert _upload(client).status_code == 302
    # Recorded for the dashboard, counted against nobody's allowance.
    staff_rows = CreditUse.objects.filter(owner=staff)
    assert [row.counted for row in staff_rows] == [False, False, False]


def test_deleting_an_avatar_does_not_give_its_credits_back(client, alice):
    client.force_login(alice)
    _upload(client)
    for job in AvatarJob.objects.filter(owner=alice):
        services.delete_avatar(job)

    assert _upload(client).status_code == 429
    assert quota.used_today(alice) == 2


def test_a_failed_avatar_gives_its_credits_back(alice):
    failed = make_finished_job(alice, status="failed")

    row = CreditUse.objects.get(job_id=failed.pk)
    assert (row.state, row.estimated, row.charged) == (CreditState.REFUNDED, 2, 0)
    assert quota.used_today(alice) == 0
    assert quota.left_today(alice) == ALLOWANCE


def test_a_completed_avatar_counts_what_fashn_charged(alice):
    # Estimated at 2 (balanced, 1k); the prediction reported 1 credit used.
    job = make_finished_job(alice)

    row = CreditUse.objects.get(job_id=job.pk)
    assert (row.state, row.estimated, row.charged) == (CreditState.CHARGED, 2, 1)
    assert row.settled_at is not None
    assert quota.used_today(alice) == 1


def test_retrying_a_failed_avatar_reserves_again_and_is_refused_over_the_allowance(
    client, alice, settings
):
    client.force_login(alice)
    failed = make_finished_job(alice, status="failed")
    assert _upload(client).status_code == 302  # 2 of 3 used: the retry's 2 do not fit

    refused = client.post(reverse("avatars:job-retry", args=[failed.pk]), follow=True)

    assert RETRY_MESSAGE in html.unescape(refused.content.decode())
    assert AvatarJob.objects.get(pk=failed.pk).status == JobStatus.FAILED
    assert CreditUse.objects.filter(job_id=failed.pk).count() == 1  # the refunded one only

    settings.AVATAR_DAILY_CREDITS = 4
    client.post(reverse("avatars:job-retry", args=[failed.pk]))

    assert AvatarJob.objects.get(pk=failed.pk).status == JobStatus.QUEUED
    assert _api(alice).post(f"/api/v1/avatars/{failed.pk}/retry/").status_code == 409
    states = CreditUse.objects.filter(job_id=failed.pk).order_by("created_at")
    assert [row.state for row in states] == [CreditState.REFUNDED, CreditState.RESERVED]
    assert quota.used_today(alice) == 4


def test_the_api_refuses_a_retry_over_the_allowance_with_429(alice, settings):
    failed = make_finished_job(alice, status="failed")
    make_job(alice)

    response = _api(alice).post(f"/api/v1/avatars/{failed.pk}/retry/")

    assert response.status_code == 429
    assert response.json()["error"] == {
        "code": "quota_exceeded",
        "message": RETRY_MESSAGE,
        "fields": {},
    }
    assert AvatarJob.objects.get(pk=failed.pk).status == JobStatus.FAILED

    settings.AVATAR_DAILY_CREDITS = 4
    retried = _api(alice).post(f"/api/v1/avatars/{failed.pk}/retry/")

    assert retried.status_code == 202
    assert retried["X-Credits-Left-Today"] == "0"


def test_staff_get_no_credits_header(staff):
    created = _api_create(_api(staff))

    assert created.status_code == 201
    assert "X-Credits-Left-Today" not in created


def test_the_allowance_does_not_depend_on_redis(client, alice, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client.force_login(alice)

    assert _upload(client).status_code == 302
    assert _upload(client).status_code == 429
    assert quota.used_today(alice) == 2


def test_the_allowance_resets_at_midnight_utc(alice):
    def new_job():
        return transitions.new_job(
            alice, model_name=PredictionModel.FACE_TO_MODEL, **options.check({})
        )

    late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    quota.reserve(new_job(), now=late)
    with pytest.raises(Refused) as refused:
        quota.reserve(new_job(), now=late)
    assert refused.value.code == "quota_exceeded"
    assert refused.value.retry_after == 60
    assert refused.value.message == MESSAGE

    quota.reserve(new_job(), now=late + timedelta(minutes=2))  # a new day: allowed


@pytest.mark.parametrize("value", [1, 0, "3", True])
def test_a_bad_allowance_setting_stops_start_up_naming_it(settings, value):
    # 1 is below the 2 credits of one avatar with the default choices: nobody could make one.
    settings.AVATAR_DAILY_CREDITS = value

    with pytest.raises(ImproperlyConfigured, match="AVATAR_DAILY_CREDITS"):
        apps.get_app_config("credits").ready()
