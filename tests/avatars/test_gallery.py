"""The gallery: own avatars only, newest first, filters, pages, constant queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avatar_studio.avatars.models import AvatarJob, ReviewState, ShareLink

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db


def test_the_gallery_shows_only_my_avatars_newest_first(client, alice, bob):
    older = make_finished_job(alice, prompt="older one")
    newer = make_finished_job(alice, prompt="newer one")
    make_finished_job(bob, prompt="bobs avatar")
    client.force_login(alice)

    page = client.get(reverse("avatars:gallery")).content.decode()

    assert page.index("newer one") < page.index("older one")
    assert "bobs avatar" not in page
    assert reverse("avatars:result-thumbnail", args=[newer.pk, 0]) in page
    assert reverse("avatars:job", args=[older.pk]) in page


def test_the_gallery_filters_by_status(client, alice):
    make_finished_job(alice, prompt="good one")
    make_finished_job(alice, status="failed", prompt="bad one")
    make_job(alice, prompt="running one")
    client.force_login(alice)

    def prompts(status):
        page = client.get(reverse("avatars:gallery"), {"status": status}).content.decode()
        return {p for p in ("good one", "bad one", "running one") if p in page}

    assert prompts("all") == {"good one", "bad one", "running one"}
    assert prompts("completed") == {"good one"}
    assert prompts("failed") == {"bad one"}
    assert prompts("active") == {"running one"}
    assert prompts("nonsense") == {"good one", "bad one", "running one"}


def test_the_gallery_is_paginated(client, alice):
    for number in range(26):
        make_job(alice, prompt=f"avatar number {number:02d}")
    client.force_login(alice)

    first = client.get(reverse("avatars:gallery")).content.decode()
    second = client.get(reverse("avatars:gallery"), {"page": 2}).content.decode()

    assert "avatar number 25" in first and "avatar number 02" in first
    assert "avatar number 01" not in first
    assert "avatar number 01" in second and "avatar number 00" in second
    assert "Page 2 of 2" in second


def _gallery_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("avatars:gallery"))
    assert response.status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_avatars(client, alice):
    client.force_login(alice)
    for _ in range(5):
        make_finished_job(alice)
    with_five = _gallery_queries(client)
    for _ in range(45):
        make_finished_job(alice)

    with_fifty = _gallery_queries(client)

    assert with_fifty == with_five
    assert with_five <= 6


def _mark_texts(page, job):
    """The marks on one job's gallery item, in the order shown."""
    item = page.split(f'href="{reverse("avatars:job", args=[job.pk])}"', 1)[1].split("</li>", 1)[0]
    return re.findall(r'<span class="mark mark-\w+">([^<]+)</span>', item)


def test_the_gallery_marks_shared_offered_and_approved_avatars_in_words(client, alice):
    plain = make_finished_job(alice)
    shared = make_finished_job(alice)
    offered = make_finished_job(alice)
    approved = make_finished_job(alice)
    expired = make_finished_job(alice)
    revoked = make_finished_job(alice)
    now = timezone.now()
    ShareLink.objects.create(job=shared, expires_at=now + timedelta(days=7))
    ShareLink.objects.create(job=approved, expires_at=now + timedelta(days=1))
    ShareLink.objects.create(job=expired, expires_at=now - timedelta(minutes=1))
    ShareLink.objects.create(job=revoked, expires_at=now + timedelta(days=7), revoked_at=now)
    AvatarJob.objects.filter(pk=offered.pk).update(review_state=ReviewState.PENDING)
    AvatarJob.objects.filter(pk=approved.pk).update(review_state=ReviewState.APPROVED)
    client.force_login(alice)

    page = client.get(reverse("avatars:gallery")).content.decode()

    assert _mark_texts(page, plain) == []
    assert _mark_texts(page, shared) == ["Shared by link"]
    assert _mark_texts(page, offered) == ["Offered for the showcase"]
    assert _mark_texts(page, approved) == ["Shared by link", "In the public showcase"]
    assert _mark_texts(page, expired) == []  # a link that no longer works marks nothing
    assert _mark_texts(page, revoked) == []


def test_the_marks_take_no_query_per_avatar(client, alice):
    client.force_login(alice)
    for _ in range(3):
        job = make_finished_job(alice)
        ShareLink.objects.create(job=job, expires_at=timezone.now() + timedelta(days=7))
    with_three = _gallery_queries(client)
    for _ in range(12):
        job = make_finished_job(alice)
        ShareLink.objects.create(job=job, expires_at=timezone.now() + timedelta(days=7))
        AvatarJob.objects.filter(pk=job.pk).update(review_state=ReviewState.APPROVED)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("avatars:gallery")).content.decode()

    assert page.count("Shared by link") == 15 and page.count("In the public showcase") == 12
    assert len(queries) == with_three
