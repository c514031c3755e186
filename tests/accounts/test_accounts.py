"""Accounts: sign up, log in, log out, password reset by email."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-7"


def _signup(client, username="dana", email="dana@example.com"):
    return client.post(
        reverse("signup"),
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_signing_up_creates_the_account_and_logs_in(client):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("avatars:upload")
    user = get_user_model().objects.get(username="dana")
    assert user.email == "dana@example.com"
    assert not user.is_staff
    assert 'name="face_image"' in client.get(reverse("avatars:upload")).content.decode()


def test_sign_up_refuses_a_taken_email_and_mismatched_passwords(client):
    _signup(client)
    client.logout()

    taken = _signup(client, username="other", email="DANA@example.com")
    mismatch = client.post(
        reverse("signup"),
        {
            "username": "erin",
            "email": "erin@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD + "x",
        },
    )

    assert "An account with this email exists" in taken.content.decode()
    assert "didn’t match" in mismatch.content.decode()
    assert get_user_model().objects.count() == 1


def test_log_in_and_log_out(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-password-1"})
    assert response["Location"] == reverse("avatars:upload")

    client.post(reverse("logout"))

    assert 'name="face_image"' not in client.get(reverse("avatars:upload")).content.decode()


def test_a_wrong_password_is_refused(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_password_reset_by_email(client):
    _signup(client)
    client.logout()

    client.post(reverse("password_reset"), {"email": "dana@example.com"})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your Avatar Studio password"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    new_password = "another-Long-pass-9"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
        follow=True,
    )
    assert "Your password is changed" in done.content.decode()
    assert client.login(username="dana", password=new_password)


def test_password_reset_says_the_same_for_unknown_addresses(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)

    assert "Check your email" in response.content.decode()
    assert mail.outbox == []
