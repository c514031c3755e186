"""`make run`'s demo account: its password is published, so it is an ordinary user, never staff.

Staff tooling needs an account of one's own (`manage.py createsuperuser`); the login hint says so.
"""

import pytest
from django.contrib.auth import get_user_model

from avatar_studio.core.management.commands.runstack import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    ensure_demo_user,
)

pytestmark = pytest.mark.django_db


def test_the_demo_account_is_an_ordinary_user(settings):
    settings.DEBUG = True

    hint = ensure_demo_user()

    demo = get_user_model().objects.get(username=DEMO_USERNAME)
    assert demo.check_password(DEMO_PASSWORD)
    assert not demo.is_staff and not demo.is_superuser
    assert f"{DEMO_USERNAME} / {DEMO_PASSWORD}" in hint
    assert "manage.py createsuperuser" in hint


def test_a_demo_account_left_as_superuser_by_an_earlier_run_is_demoted(settings):
    settings.DEBUG = True
    get_user_model().objects.create_superuser(DEMO_USERNAME, "demo@example.com", "chosen-since")

    ensure_demo_user()

    demo = get_user_model().objects.get(username=DEMO_USERNAME)
    assert not demo.is_staff and not demo.is_superuser
    assert demo.check_password("chosen-since")  # a password its user changed is kept


def test_outside_development_there_is_no_demo_account(settings):
    settings.DEBUG = False

    hint = ensure_demo_user()

    assert not get_user_model().objects.filter(username=DEMO_USERNAME).exists()
    assert "manage.py createsuperuser" in hint
