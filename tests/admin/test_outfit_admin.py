"""Outfits in the admin: staff who may view every job list and search them, with the shopper, the
avatar image, the model and each step's try-on; they review, and edit or delete nothing.

Bob made an outfit on his own avatar: the top is on, the bottoms are still being put on."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from avatar_studio.avatars import quota
from avatar_studio.shop import services as shop
from avatar_studio.shop.models import Outfit, Product

from ..support.credits import spend
from ..support.jobs import make_finished_job
from .test_tryon_admin import finish_with_picture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_store")]

OUTFITS = "admin:shop_outfit_changelist"
TOP, BOTTOMS = "essential-crew-tee", "stone-chinos"


def make_outfit(shopper, *, model_name="tryon-v1.6", bottoms=BOTTOMS):
    """``shopper``'s outfit on a new avatar of theirs, its top on and its bottoms started."""
    avatar = make_finished_job(shopper)
    products = [Product.objects.get(slug=TOP), Product.objects.get(slug=bottoms)]
    outfit = shop.start_outfit(shopper, avatar.results.get(), products, model_name=model_name)
    top_job = finish_with_picture(outfit.steps.get(order=1).tryon.job)
    shop.on_job_finished(None, job_id=top_job.pk, status="completed")
    return outfit, avatar


@pytest.fixture
def bobs_outfit(bob):
    return make_outfit(bob)


def listed(response):
    assert response.status_code == 200
    return {outfit.pk for outfit in response.context["cl"].result_list}


def cell(page, field, outfit):
    row = re.search(rf"<tr>(?:(?!</tr>).)*?{str(outfit.pk)[:8]}(?:(?!</tr>).)*</tr>", page, re.S)
    assert row, f"no row for {outfit.pk}"
    found = re.search(rf'<t[dh] class="field-{field}[^"]*">(.*?)</t[dh]>', row.group(0), re.S)
    assert found, f"no {field} cell"
    return found.group(1)


def test_the_list_shows_shopper_avatar_model_and_each_steps_try_on(
    client, reviewer, bob, bobs_outfit
):
    outfit, avatar = bobs_outfit
    client.force_login(reviewer)

    response = client.get(reverse(OUTFITS))

    assert listed(response) == {outfit.pk}
    page = response.content.decode()
    assert ">bob<" in cell(page, "shopper_link", outfit)
    image = cell(page, "avatar_image", outfit)
    assert reverse("avatars:result-thumbnail", args=[avatar.pk, 0]) in image
    assert reverse("admin:avatars_avatarjob_change", args=[avatar.pk]) in image
    assert cell(page, "model_name", outfit) == "tryon-v1.6"
    steps = cell(page, "steps_summary", outfit)
    assert "1. Essential crew tee: Completed" in steps
    assert "2. Stone chinos: Queued" in steps  # started on the top's picture, not yet run
    assert cell(page, "status", outfit) == "Processing"


def test_staff_search_outfits_by_shopper_and_garment_and_filter_by_shopper(
    client, reviewer, alice, bob, bobs_outfit
):
    outfit, _avatar = bobs_outfit
    alices, _ = make_outfit(alice, model_name="tryon-max", bottoms="pleated-midi-skirt")
    client.force_login(reviewer)

    page = client.get(reverse(OUTFITS)).content.decode()
    link = re.search(r'href="([^"]+)"[^>]*>bob<', cell(page, "shopper_link", outfit)).group(1)

    assert listed(client.get(reverse(OUTFITS), {"q": "bob"})) == {outfit.pk}
    assert listed(client.get(reverse(OUTFITS), {"q": "midi skirt"})) == {alices.pk}
    assert listed(client.get(reverse(OUTFITS), {"q": "crew tee"})) == {outfit.pk, alices.pk}
    assert listed(client.get(reverse(OUTFITS), {"q": str(alices.pk)})) == {alices.pk}
    assert listed(client.get(link.replace("&amp;", "&"))) == {outfit.pk}
    assert listed(client.get(reverse(OUTFITS), {"model_name__exact": "tryon-max"})) == {alices.pk}


def test_the_outfit_page_shows_its_steps_read_only(client, reviewer, bobs_outfit):
    outfit, avatar = bobs_outfit
    top, bottoms = outfit.steps.select_related("tryon").order_by("order")
    client.force_login(reviewer)

    response = client.get(reverse("admin:shop_outfit_change", args=[outfit.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in page
    assert "<input" not in re.sub(r'<input type="hidden"[^>]*>', "", page.split("<form")[-1])
    assert reverse("avatars:result-thumbnail", args=[avatar.pk, 0]) in page
    # Each step: its try-on's status, linked to the try-on's own page; the top's picture.
    for step, status in ((top, "Completed"), (bottoms, "Queued")):
        link = reverse("admin:avatars_tryonjob_change", args=[step.tryon.job_id])
        assert f'<a href="{link}">{status} (tryon-v1.6)</a>' in page
    assert reverse("avatars:result-thumbnail", args=[top.tryon.job_id, 0]) in page
    assert reverse("avatars:result-thumbnail", args=[bottoms.tryon.job_id, 0]) not in page


def test_a_step_not_started_says_so(client, reviewer, bob):
    avatar = make_finished_job(bob)
    products = [Product.objects.get(slug=TOP), Product.objects.get(slug=BOTTOMS)]
    outfit = shop.start_outfit(bob, avatar.results.get(), products)
    client.force_login(reviewer)

    page = client.get(reverse(OUTFITS)).content.decode()
    detail = client.get(reverse("admin:shop_outfit_change", args=[outfit.pk])).content.decode()

    assert "2. Stone chinos: Not started" in cell(page, "steps_summary", outfit)
    assert "Not started" in detail


def test_a_stopped_outfit_shows_why_its_next_step_did_not_start(client, reviewer, bob, settings):
    settings.AVATAR_DAILY_CREDITS = 20
    avatar = make_finished_job(bob)
    products = [Product.objects.get(slug=TOP), Product.objects.get(slug=BOTTOMS)]
    outfit = shop.start_outfit(bob, avatar.results.get(), products)
    spend(bob, quota.left_today(bob))  # spent elsewhere while the top was being made
    top_job = finish_with_picture(outfit.steps.get(order=1).tryon.job)
    shop.on_job_finished(None, job_id=top_job.pk, status="completed")
    reason = outfit.steps.get(order=2).not_started_because
    client.force_login(reviewer)

    page = client.get(reverse(OUTFITS)).content.decode()
    detail = client.get(reverse("admin:shop_outfit_change", args=[outfit.pk])).content.decode()

    assert cell(page, "status", outfit) == "Stopped: next garment not started"
    assert "credits" in reason
    assert escape(reason) in detail


def test_staff_without_the_permission_see_no_outfits(client, staff, bobs_outfit):
    outfit, _avatar = bobs_outfit
    client.force_login(staff)

    assert client.get(reverse(OUTFITS)).status_code == 403
    assert client.get(reverse("admin:shop_outfit_change", args=[outfit.pk])).status_code == 403
    assert reverse(OUTFITS) not in client.get(reverse("admin:index")).content.decode()


def test_nothing_on_an_outfit_is_added_edited_or_deleted_by_hand(client, superuser, bobs_outfit):
    outfit, _avatar = bobs_outfit
    client.force_login(superuser)

    listing = client.get(reverse(OUTFITS)).content.decode()
    delete = client.post(reverse("admin:shop_outfit_delete", args=[outfit.pk]), {"post": "yes"})
    add = client.get(reverse("admin:shop_outfit_add"))
    change = client.post(reverse("admin:shop_outfit_change", args=[outfit.pk]), {"model_name": "x"})

    assert 'value="delete_selected"' not in listing
    assert delete.status_code == 403
    assert add.status_code == 403
    assert change.status_code == 403
    assert Outfit.objects.get(pk=outfit.pk).model_name == "tryon-v1.6"
    assert outfit.steps.count() == 2


def test_the_list_costs_the_same_queries_for_one_outfit_or_four(
    client, reviewer, alice, bob, bobs_outfit
):
    client.force_login(reviewer)
    client.get(reverse(OUTFITS))  # warm up: sessions, content types

    with CaptureQueriesContext(connection) as few:
        client.get(reverse(OUTFITS))
    for shopper in (alice, bob, alice):
        make_outfit(shopper)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(OUTFITS))

    assert len(listed(response)) == 4
    assert len(many) == len(few)
