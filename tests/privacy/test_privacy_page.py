"""The privacy page publishes the retention and deletion schedule the settings enforce."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_default_schedule_is_published(client):
    text = _text(client.get(reverse("privacy")))

    assert "Deleted as soon as the avatar is made" in text
    assert "7 days after it failed, so that you can press Retry" in text
    assert "A clean-up runs every 60 minutes" in text
    assert "Delete my account" in text
    assert "trainedAlgorithmicMedia" in text


def test_the_page_follows_the_settings(client, settings):
    settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS = 24
    settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS = 3

    text = _text(client.get(reverse("privacy")))

    assert "24 hours after the avatar is made" in text
    assert "3 days after it failed" in text


def test_a_logged_in_user_gets_the_link_to_delete_the_account(client, alice):
    client.force_login(alice)
    assert reverse("account") in client.get(reverse("privacy")).content.decode()
