"""Fixtures for staff review: a reviewer in the "Reviewers" group, a superuser, and avatars in
each review state."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from avatar_studio.avatars.review import services as review

from ..support.jobs import make_finished_job


def reviewers_group():
    """The group the data migration made.

    A transactional test (browser, worker) ends by emptying every table, migration data
    included; the group is then made again by the migration's own function.
    """
    group = Group.objects.filter(name="Reviewers").first()
    if group is None:
        migration = importlib.import_module("avatar_studio.avatars.migrations.0004_reviewers_group")
        migration.create_reviewers_group(apps, schema_editor=None)
        group = Group.objects.get(name="Reviewers")
    return group


@pytest.fixture
def reviewer(django_user_model):
    """Staff in the "Reviewers" group, and nothing more."""
    user = django_user_model.objects.create_user("rita", password="rita-password-1", is_staff=True)
    user.groups.add(reviewers_group())
    return user


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(
        "sam", email="sam@example.com", password="sam-password-1"
    )


@pytest.fixture
def offered_job(alice):
    """A completed avatar its owner offered for public display: waiting for review."""
    job = make_finished_job(alice)
    review.offer_for_display(job)
    job.refresh_from_db()
    return job
