"""The daily quota: browser and API together, a clear message, staff exempt, retries free."""

import html
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.avatars import quota, services
from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg
from ..support.jobs import make_finished_job

pytestmark = pytest.mark.django_db

MESSAGE = "You've reached today's limit of 2 avatars; it resets at 00:00 UTC."


@pytest.fixture(autouse=True)
def _quota(settings):
    settings.AVATAR_DAILY_QUOTA = 2


def _upload(client):
    return client.post(
        reverse("avatars:upload"),
        {
            "face_image": SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg"),
            "prompt": "",
            "aspect_ratio": "2:3",
            "seed": "1",
            "output_format": "jpeg",
            "consent": "on",
        },
    )


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _api_create(client):
    return client.post(
        "/api/v1/avatars/",
        {
            "face_image": SimpleUploadedFile("me.jpg", astronaut_jpeg(), "image/jpeg"),
            "consent": "true",
        },
        format="multipart",
    )


def test_the_browser_form_refuses_past_the_limit_with_a_clear_message(client, alice):
    client.force_login(alice)
    assert "2 of 2 avatars left today" in client.get(reverse("avatars:upload")).content.decode()
    assert _upload(client).status_code == 302
    assert _upload(client).status_code == 302

    refused = _upload(client)

    assert refused.status_code == 429
    assert MESSAGE in html.unescape(refused.content.decode())
    assert AvatarJob.objects.filter(owner=alice).count() == 2
    page = html.unescape(client.get(reverse("avatars:upload")).content.decode())
    assert MESSAGE in page  # said before choosing a photo, too
    assert "0 of 2 avatars left today" in page


def test_browser_and_api_share_the_quota_and_the_api_answers_429(client, alice):
    client.force_login(alice)
    api = _api(alice)
    assert _upload(client).status_code == 302
    assert _api_create(api).status_code == 201

    response = _api_create(api)

    assert response.status_code == 429
    assert response.json() == {
        "error": {"code": "quota_exceeded", "message": MESSAGE, "fields": {}}
    }
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    assert AvatarJob.objects.filter(owner=alice).count() == 2


def test_users_have_their_own_quota_and_staff_none(client, alice, bob, staff):
    client.force_login(alice)
    _upload(client), _upload(client)
    assert _upload(client).status_code == 429

    client.force_login(bob)
    assert _upload(client).status_code == 302
    client.force_login(staff)
    for _ in range(3):
        assert _upload(client).status_code == 302


def test_deleting_an_avatar_does_not_give_its_unit_back(client, alice):
    client.force_login(alice)
    _upload(client), _upload(client)
    for job in AvatarJob.objects.filter(owner=alice):
        services.delete_avatar(job)

    assert _upload(client).status_code == 429


def test_retrying_a_failed_avatar_is_not_a_new_submission(client, alice):
    client.force_login(alice)
    failed = make_finished_job(alice, status="failed")
    assert _upload(client).status_code == 302  # the failed job and this one: the limit
    assert _upload(client).status_code == 429

    client.post(reverse("avatars:job-retry", args=[failed.pk]))

    assert AvatarJob.objects.get(pk=failed.pk).status == "queued"


def test_without_redis_the_days_jobs_are_counted(client, alice, settings):
    client.force_login(alice)
    _upload(client), _upload(client)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    assert _upload(client).status_code == 429
    assert quota.used_today(alice) == 2


def test_the_quota_resets_at_midnight_utc(alice):
    late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    with pytest.raises(quota.QuotaExceeded) as exceeded:
        for _ in range(3):
            quota.take(alice, now=late)
    assert exceeded.value.retry_after == 60
    assert str(exceeded.value) == MESSAGE

    quota.take(alice, now=datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC))  # a new day: allowed


def test_a_count_left_by_an_earlier_database_does_not_apply_to_a_new_user_with_the_same_id(
    django_user_model, settings
):
    now = timezone.now()
    day = f"{now.astimezone(UTC):%Y-%m-%d}"
    earlier = django_user_model.objects.create_user("earlier", password="earlier-password-1")
    earlier.date_joined = now - timedelta(days=30)
    earlier.save()
    quota.take(earlier, now=now), quota.take(earlier, now=now)
    with pytest.raises(quota.QuotaExceeded):
        quota.take(earlier, now=now)
    user_id = earlier.pk
    # The database is made again from scratch; Redis keeps what it had, including a count under
    # the key that ids alone used to name.
    earlier.delete()
    redis.Redis.from_url(settings.REDIS_URL).set(
        f"{settings.REDIS_KEY_PREFIX}:quota:{user_id}:{day}", 2
    )

    newcomer = django_user_model.objects.create_user(
        "newcomer", password="newcomer-password-1", id=user_id
    )

    assert newcomer.pk == user_id
    assert quota.used_today(newcomer, now=now) == 0
    quota.take(newcomer, now=now), quota.take(newcomer, now=now)  # the whole day's quota
    with pytest.raises(quota.QuotaExceeded):
        quota.take(newcomer, now=now)
