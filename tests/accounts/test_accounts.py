"""Accounts: sign up by email link, log in, log out, password reset by email."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from .pages import link_in, visible_text

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-7"


def _finish_link(client, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signup"), {"email": email}, follow=True)
    assert "Check your email" in visible_text(response)
    return link_in(mail.outbox[-1])


def test_signing_up_creates_the_account_and_logs_in(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    link = _finish_link(client, "Dana@Example.com", django_capture_on_commit_callbacks)
    assert mail.outbox[0].subject == "Finish signing up to Avatar Studio"

    response = client.post(link, {"username": "dana", "password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("avatars:upload")
    user = get_user_model().objects.get(username="dana")
    assert user.email == "dana@example.com"
    assert not user.is_staff
    assert 'name="face_image"' in client.get(reverse("avatars:upload")).content.decode()


def test_finishing_sign_up_refuses_mismatched_and_weak_passwords(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    link = _finish_link(client, "erin@example.com", django_capture_on_commit_callbacks)

    mismatch = client.post(
        link, {"username": "erin", "password1": PASSWORD, "password2": PASSWORD + "x"}
    )
    like_the_email = client.post(
        link,
        {"username": "erin", "password1": "erin@example.com", "password2": "erin@example.com"},
    )

    assert "didn’t match" in visible_text(mismatch)
    assert "too similar" in visible_text(like_the_email)
    assert get_user_model().objects.count() == 0


def test_log_in_and_log_out(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-password-1"})
    assert response["Location"] == reverse("avatars:upload")

    client.post(reverse("logout"))

    assert 'name="face_image"' not in client.get(reverse("avatars:upload")).content.decode()


def test_a_wrong_password_is_refused(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_password_reset_by_email(
    client, django_user_model, eager_tasks, django_capture_on_commit_callbacks
):
    django_user_model.objects.create_user("dana", "dana@example.com", PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": "dana@example.com"})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your Avatar Studio password"
    form_page = client.get(link_in(mail.outbox[0]), follow=True)
    new_password = "another-Long-pass-9"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
        follow=True,
    )
    assert "Your password is changed" in done.content.decode()
    assert client.login(username="dana", password=new_password)


def test_password_reset_says_the_same_for_unknown_addresses(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("password_reset"), {"email": "nobody@example.com"}, follow=True
        )

    assert "Check your email" in response.content.decode()
    assert mail.outbox == []
