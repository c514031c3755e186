"""Share links: anyone with the link sees the avatar (never the selfie) until it expires or is
turned off."""

import pytest
from django.urls import reverse
from django.utils import timezone

from avatar_studio.avatars.models import ShareLink

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db


def _share(client, job, days="7"):
    client.post(reverse("avatars:share-create", args=[job.pk]), {"days": days})
    return ShareLink.objects.filter(job=job).latest("created_at")


def test_the_owner_makes_a_link_that_expires_in_seven_days_by_default(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()
    link = _share(client, job)

    assert '<option value="7" selected>' in page
    expected = timezone.now() + timezone.timedelta(days=7)
    assert abs((link.expires_at - expected).total_seconds()) < 60
    assert (
        reverse("avatars:shared", args=[link.token])
        in client.get(reverse("avatars:job", args=[job.pk])).content.decode()
    )


def test_anyone_with_the_link_sees_the_avatar_but_not_the_selfie(client, alice):
    job = make_finished_job(alice, prompt="private words")
    client.force_login(alice)
    link = _share(client, job)
    client.logout()

    page = client.get(reverse("avatars:shared", args=[link.token]))
    image = client.get(reverse("avatars:shared-image", args=[link.token, 0]))

    assert page.status_code == 200
    assert "AI-generated" in page.content.decode()
    assert reverse("avatars:selfie", args=[job.pk]) not in page.content.decode()
    assert "private words" not in page.content.decode()
    assert "alice" not in page.content.decode()
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"


def test_a_revoked_link_stops_working_at_once(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)
    link = _share(client, job)

    client.post(reverse("avatars:share-revoke", args=[job.pk, link.pk]))
    client.logout()

    assert client.get(reverse("avatars:shared", args=[link.token])).status_code == 404
    assert client.get(reverse("avatars:shared-image", args=[link.token, 0])).status_code == 404


def test_an_expired_link_stops_working(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)
    link = _share(client, job, days="1")
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())

    response = client.get(reverse("avatars:shared", args=[link.token]))

    assert response.status_code == 404
    assert "does not work any more" in response.content.decode()


def test_only_completed_avatars_of_ones_own_can_be_shared(client, alice, bob):
    running = make_job(alice)
    others = make_finished_job(bob)
    client.force_login(alice)

    client.post(reverse("avatars:share-create", args=[running.pk]), {"days": "7"})
    response = client.post(reverse("avatars:share-create", args=[others.pk]), {"days": "7"})

    assert response.status_code == 404
    assert not ShareLink.objects.exists()


def test_an_unknown_token_is_not_found(client):
    assert client.get(reverse("avatars:shared", args=["no-such-token"])).status_code == 404


def test_the_duration_chosen_for_a_link_stays_chosen_for_the_next(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)

    response = client.post(
        reverse("avatars:share-create", args=[job.pk]), {"days": "30"}, follow=True
    )

    assert ShareLink.objects.get(job=job).expires_at > timezone.now() + timezone.timedelta(days=29)
    page = response.content.decode()
    assert '<option value="30" selected>' in page
    assert '<option value="7" selected>' not in page


def test_a_duration_that_is_not_offered_in_the_address_is_ignored(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)

    page = client.get(reverse("avatars:job", args=[job.pk]), {"days": "9999"}).content.decode()

    assert '<option value="7" selected>' in page


def test_each_share_link_has_a_copy_button_for_its_own_field(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)
    first, second = _share(client, job), _share(client, job, days="1")

    page = client.get(reverse("avatars:job", args=[job.pk])).content.decode()

    for link in (first, second):
        assert f'id="share-url-{link.pk}"' in page
        assert f'data-copy="share-url-{link.pk}"' in page
    assert "data-copy-status" in page
