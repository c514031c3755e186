"""API tokens on the account page: made, replaced and revoked by their user, the key shown once."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from .pages import visible_text

pytestmark = pytest.mark.django_db

AVATARS = "/api/v1/avatars/"


def _api_status(key):
    """What the API answers a program holding ``key`` (a client with no session)."""
    return Client().get(AVATARS, HTTP_AUTHORIZATION=f"Token {key}").status_code


def _shown_key(response):
    match = re.search(r'id="new-api-token"[^>]*value="([0-9a-f]{40})"', response.content.decode())
    return match and match.group(1)


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


def test_the_account_page_offers_a_token_when_there_is_none(owner):
    text = visible_text(owner.get(reverse("account")))

    assert "You have no API token" in text
    assert "Create an API token" in text
    assert "Revoke" not in text


def test_creating_shows_the_key_once_and_it_works(owner, alice):
    response = owner.post(reverse("api-token-create"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = _shown_key(response)
    assert key == Token.objects.get(user=alice).key
    text = visible_text(response)
    assert "Copy it now: it will not be shown again." in text
    assert "Authorization: Token" in text
    assert _api_status(key) == 200

    later = owner.get(reverse("account"))

    assert key not in later.content.decode()
    assert key not in str(dict(owner.session))
    text = visible_text(later)
    assert "You have an API token, created" in text
    assert "Replace my token" in text
    assert "Revoke" in text
    assert "Create an API token" not in text


def test_replacing_stops_the_old_key_at_once(owner, alice):
    old = _shown_key(owner.post(reverse("api-token-create")))

    response = owner.post(reverse("api-token-create"))

    new = _shown_key(response)
    assert new and new != old
    assert "replaces the old one, which no longer works" in visible_text(response)
    assert Token.objects.filter(user=alice).count() == 1
    assert _api_status(old) == 401
    assert _api_status(new) == 200


def test_revoking_stops_the_key_at_once(owner, alice):
    key = _shown_key(owner.post(reverse("api-token-create")))

    response = owner.post(reverse("api-token-revoke"), follow=True)

    assert response.redirect_chain == [(reverse("account"), 302)]
    text = visible_text(response)
    assert "Your API token is revoked" in text
    assert "You have no API token" in text
    assert not Token.objects.filter(user=alice).exists()
    assert _api_status(key) == 401


def test_revoking_without_a_token_says_so(owner):
    response = owner.post(reverse("api-token-revoke"), follow=True)

    assert "nothing to revoke" in visible_text(response)


def test_each_user_changes_only_their_own_token(owner, alice, bob):
    bobs = Token.objects.create(user=bob)

    owner.post(reverse("api-token-create"))
    owner.post(reverse("api-token-revoke"))

    assert Token.objects.get(user=bob).key == bobs.key
    assert _api_status(bobs.key) == 200


@pytest.mark.parametrize("name", ["api-token-create", "api-token-revoke"])
def test_anonymous_is_sent_to_log_in(client, name):
    response = client.post(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Token.objects.exists()


@pytest.mark.parametrize("name", ["api-token-create", "api-token-revoke"])
def test_get_changes_nothing(owner, alice, name):
    Token.objects.create(user=alice)

    assert owner.get(reverse(name)).status_code == 405
    assert Token.objects.filter(user=alice).count() == 1


def test_the_page_with_the_key_keeps_the_content_security_policy(owner):
    response = owner.post(reverse("api-token-create"))

    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=", html, re.I)
