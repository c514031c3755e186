"""Deleting an account removes the user, their jobs, every file of theirs and their API token."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob

from ..support.faces import flat_image
from ..support.jobs import make_finished_job
from .conftest import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_things(alice, bob):
    """Alice: a completed avatar, a failed one, an API token; Bob: his own avatar and a try-on of
    Alice's avatar (which cannot outlive it)."""
    completed = make_finished_job(alice)
    failed = make_finished_job(alice, status="failed")
    token = Token.objects.create(user=alice)
    bobs = make_finished_job(bob)
    tryon = services.create_tryon(
        owner=bob,
        model_result=completed.results.get(),
        garment_png=flat_image(),
        category="tops",
    )
    return {"completed": completed, "failed": failed, "token": token, "bobs": bobs, "tryon": tryon}


def _user_files(media_root, user_id):
    prefixes = (f"selfies/{user_id}/", f"avatars/{user_id}/", f"garments/{user_id}/")
    return [name for name in stored_files(media_root) if name.startswith(prefixes)]


def test_the_account_page_links_to_deletion(client, alice):
    client.force_login(alice)
    page = client.get(reverse("account")).content.decode()
    assert reverse("account-delete") in page
    assert client.get(reverse("account-delete")).status_code == 200


def test_deleting_the_account_removes_everything_of_the_user(
    client, alice, bob, alices_things, media_root, django_capture_on_commit_callbacks
):
    # An orphan under her prefix (say, left by a crash) goes too.
    (media_root / f"avatars/{alice.pk}/stray").mkdir(parents=True)
    (media_root / f"avatars/{alice.pk}/stray/left-over.png").write_bytes(b"x")
    assert _user_files(media_root, alice.pk)
    bobs_files_before = [
        name for name in stored_files(media_root) if name.startswith(f"avatars/{bob.pk}/")
    ]
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account-delete"), {"password": "alice-password-1", "confirm": "on"}
        )

    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="alice").exists()
    assert not AvatarJob.objects.filter(owner_id=alice.pk).exists()
    assert not Token.objects.filter(key=alices_things["token"].key).exists()
    assert _user_files(media_root, alice.pk) == []
    for prefix in ("selfies", "avatars", "garments"):
        assert not (media_root / prefix / str(alice.pk)).exists()
    # Logged out: the home page is the introduction again.
    assert 'name="face_image"' not in client.get(reverse("avatars:upload")).content.decode()
    # Bob keeps his own avatar; the try-on of Alice's avatar went with it, files included.
    assert AvatarJob.objects.filter(pk=alices_things["bobs"].pk).exists()
    assert not AvatarJob.objects.filter(pk=alices_things["tryon"].pk).exists()
    assert bobs_files_before and set(bobs_files_before) <= set(stored_files(media_root))
    assert not any(name.startswith(f"garments/{bob.pk}/") for name in stored_files(media_root))
    # Her token no longer opens the API.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {alices_things['token'].key}")
    assert api.get("/api/v1/avatars/").status_code == 401


def test_a_wrong_password_or_no_confirmation_deletes_nothing(client, alice, alices_things):
    client.force_login(alice)

    wrong = client.post(reverse("account-delete"), {"password": "nope", "confirm": "on"})
    unticked = client.post(reverse("account-delete"), {"password": "alice-password-1"})

    assert "That is not your password." in wrong.content.decode()
    assert "Tick the box to confirm." in unticked.content.decode()
    assert get_user_model().objects.filter(pk=alice.pk).exists()
    assert AvatarJob.objects.filter(owner=alice).count() == 2


def test_deletion_needs_a_login_a_post_and_the_csrf_token(alice, alices_things):
    anonymous = Client()
    assert anonymous.get(reverse("account-delete")).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)

    response = strict.post(
        reverse("account-delete"), {"password": "alice-password-1", "confirm": "on"}
    )

    assert response.status_code == 403
    assert get_user_model().objects.filter(pk=alice.pk).exists()


def test_deleting_a_user_in_the_admin_removes_their_files(
    client, admin_user, alice, alices_things, media_root, django_capture_on_commit_callbacks
):
    assert _user_files(media_root, alice.pk)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:auth_user_delete", args=[alice.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert _user_files(media_root, alice.pk) == []


def test_deleting_a_job_in_the_admin_removes_its_files(
    client, admin_user, alice, media_root, django_capture_on_commit_callbacks
):
    job = make_finished_job(alice)
    names = [job.selfie.name, *(r.image.name for r in job.results.all())]
    assert all(name in stored_files(media_root) for name in names)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:avatars_avatarjob_delete", args=[job.pk]), {"post": "yes"})

    assert not AvatarJob.objects.filter(pk=job.pk).exists()
    assert not any(name in stored_files(media_root) for name in names)
