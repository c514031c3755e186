"""The gallery: own avatars only, newest first, filters, pages, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
