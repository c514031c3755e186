"""Too many failed logins, per account or per address, pause logging in with a clear message."""

import time

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def _login(client, username, password, address="203.0.113.5"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def _limits(settings):
    # Fast hashing: these tests make many login attempts (the limits do not depend on it).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 20
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900
    settings.LOGIN_LOCKOUT_SECONDS = 900


def test_five_failures_lock_the_account_even_for_the_right_password(client, alice):
    for _ in range(5):
        response = _login(client, "alice", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    response = _login(client, "alice", "alice-password-1")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed log-in attempts" in page
    assert "Try again in 15 minutes" in page
    assert not _logged_in(client)
    # From another address too: the account itself is paused.
    assert _login(Client(), "ALICE", "alice-password-1", address="198.51.100.7").status_code == 429
    # Every path through authenticate() is refused, not only our form.
    assert authenticate(None, username="alice", password="alice-password-1") is None


def test_other_accounts_are_not_affected_by_one_locked_account(client, alice, bob):
    for _ in range(5):
        _login(client, "alice", "wrong")

    response = _login(client, "bob", "bob-password-1")

    assert response.status_code == 302
    assert _logged_in(client)


def test_many_failures_from_one_address_lock_that_address(client, alice, bob):
    for number in range(20):
        _login(client, f"nobody-{number}", "guess")

    refused = _login(client, "bob", "bob-password-1")
    elsewhere = Client()
    allowed = _login(elsewhere, "bob", "bob-password-1", address="198.51.100.7")

    assert refused.status_code == 429
    assert "Too many failed log-in attempts" in refused.content.decode()
    assert allowed.status_code == 302 and _logged_in(elsewhere)


def test_the_address_comes_from_the_configured_proxy_header(client, bob, settings):
    settings.LOGIN_CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"
    for number in range(20):
        client.post(
            LOGIN,
            {"username": f"nobody-{number}", "password": "x"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_REAL_IP="203.0.113.9",
        )

    other_client_same_proxy = Client().post(
        LOGIN,
        {"username": "bob", "password": "bob-password-1"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_REAL_IP="203.0.113.10",
    )

    assert other_client_same_proxy.status_code == 302


def test_the_lockout_ends(client, alice, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(5):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", "alice-password-1").status_code == 429

    time.sleep(1.2)
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1  # and the old failures have left the window

    assert _login(client, "alice", "alice-password-1").status_code == 302


def test_a_successful_login_clears_the_accounts_failures(client, alice):
    for _ in range(4):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", "alice-password-1").status_code == 302
    client.logout()

    for _ in range(4):
        _login(client, "alice", "wrong")

    assert _login(client, "alice", "alice-password-1").status_code == 302


def test_the_admin_login_is_limited_too(client, admin_user):
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "admin", "password": "wrong"}, REMOTE_ADDR="203.0.113.5")

    response = client.post(
        url, {"username": "admin", "password": "password"}, REMOTE_ADDR="203.0.113.5"
    )

    assert "Too many failed log-in attempts" in response.content.decode()
    assert not _logged_in(client)


def test_the_login_form_still_needs_its_csrf_token(alice):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 403
