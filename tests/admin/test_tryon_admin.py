"""Try-ons in the admin: a list of their own, apart from avatars, with the try-on's picture, the
avatar worn, the garment and the shopper who asked; seen by whoever may view every job.

Alice's avatar is a model in the store; Bob, a shopper, asks to see a tee on it. The try-on job
is Bob's (he asked for it) and shows Alice's avatar: the list must say both."""

import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from avatar_studio.avatars.models import (
    AvatarJob,
    JobStatus,
    PredictionAttempt,
    TryOnJob,
    result_path,
)
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.pipeline.outputs import StoredOutput
from avatar_studio.avatars.review import services as review
from avatar_studio.shop import services as shop
from avatar_studio.shop.models import Product

from ..support.jobs import make_finished_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_store")]

TRYONS = "admin:avatars_tryonjob_changelist"
AVATARS = "admin:avatars_avatarjob_changelist"
TEE = "essential-crew-tee"


def jpeg(colour, size=(64, 96)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def finish_with_picture(job):
    """The try-on's prediction completes with one stored picture and thumbnail, as the pipeline
    would store them."""
    attempt = PredictionAttempt.objects.create(
        job=job, number=1, prediction_id=f"pred-{job.pk}", submitted_at=timezone.now()
    )
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    image = default_storage.save(result_path(job, "1-0.jpg"), ContentFile(jpeg((40, 60, 120))))
    thumbnail = default_storage.save(
        result_path(job, "1-0-thumb.jpg"), ContentFile(jpeg((40, 60, 120), (32, 48)))
    )
    assert transitions.complete_job(
        job,
        attempt,
        stored_outputs=[StoredOutput(0, image, thumbnail, "image/jpeg", 64, 96)],
        credits_used=1,
    )
    return AvatarJob.objects.get(pk=job.pk)


def fail(job):
    PredictionAttempt.objects.create(
        job=job, number=1, prediction_id=f"pred-{job.pk}", submitted_at=timezone.now()
    )
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    assert transitions.fail_job(job, "PipelineError")
    return AvatarJob.objects.get(pk=job.pk)


@pytest.fixture
def model_avatar(alice, staff):
    """Alice's avatar, offered for display and approved: a model any shopper may dress."""
    avatar = make_finished_job(alice)
    review.offer_for_display(avatar)
    review.approve(avatar, reviewer=staff)
    return AvatarJob.objects.get(pk=avatar.pk)


@pytest.fixture
def bobs_tryon(bob, model_avatar):
    """Bob, a shopper, asked to see the tee on Alice's model: the try-on job is Bob's."""
    look = shop.try_on(bob, Product.objects.get(slug=TEE), model_avatar.results.get())
    job = finish_with_picture(look.tryon.job)
    assert job.owner == bob != model_avatar.owner
    return job


def listed_ids(response):
    assert response.status_code == 200
    return {job.pk for job in response.context["cl"].result_list}


def cell(page, field, job):
    """The HTML of one cell of ``job``'s row in a change list."""
    row = re.search(rf'<tr>(?:(?!</tr>).)*?value="{job.pk}"(?:(?!</tr>).)*</tr>', page, re.S)
    assert row, f"no row for {job.pk}"
    found = re.search(rf'<t[dh] class="field-{field}[^"]*">(.*?)</t[dh]>', row.group(0), re.S)
    assert found, f"no {field} cell"
    return found.group(1)


def test_avatars_and_try_ons_are_two_lists(client, reviewer, model_avatar, bobs_tryon):
    client.force_login(reviewer)

    avatars = listed_ids(client.get(reverse(AVATARS)))
    tryons = listed_ids(client.get(reverse(TRYONS)))
    # Searching or filtering one list never brings in the other kind.
    searched = listed_ids(client.get(reverse(AVATARS), {"q": "alice"}))
    completed = listed_ids(client.get(reverse(TRYONS), {"status__exact": "completed"}))

    assert avatars == {model_avatar.pk}
    assert tryons == {bobs_tryon.pk}
    assert searched == {model_avatar.pk}
    assert completed == {bobs_tryon.pk}
    assert set(TryOnJob.objects.values_list("pk", flat=True)) == {bobs_tryon.pk}


def test_the_try_on_list_shows_the_shopper_who_asked_not_only_the_avatar_owner(
    client, reviewer, bob, model_avatar, bobs_tryon
):
    client.force_login(reviewer)

    page = client.get(reverse(TRYONS)).content.decode()

    asked_by = cell(page, "asked_by", bobs_tryon)
    worn = cell(page, "avatar_worn", bobs_tryon)
    assert ">bob<" in asked_by
    assert "alice" not in asked_by
    # The avatar worn: Alice's, linked to its own admin page, with its thumbnail.
    assert reverse("admin:avatars_avatarjob_change", args=[model_avatar.pk]) in worn
    assert reverse("avatars:result-thumbnail", args=[model_avatar.pk, 0]) in worn
    assert "alice" in worn
    garment = cell(page, "garment", bobs_tryon)
    assert reverse("shop:garment-image", args=[TEE]) in garment
    assert "Essential crew tee" in garment
    assert reverse("avatars:result-thumbnail", args=[bobs_tryon.pk, 0]) in cell(
        page, "tryon_thumbnail", bobs_tryon
    )
    for header in ("Try-on", "Avatar worn", "Garment", "Asked by", "Status", "Credits", "Created"):
        assert header in page


def test_a_second_shopper_gets_a_row_of_their_own_and_the_shopper_link_filters_the_list(
    client, reviewer, alice, bob, model_avatar, bobs_tryon
):
    # Alice asks for the same tee on her own avatar: a try-on of her own, beside Bob's.
    alices = shop.try_on(alice, Product.objects.get(slug=TEE), model_avatar.results.get()).tryon
    other = make_finished_job(alice, prompt="slim build")
    alices_own = finish_with_picture(
        shop.try_on(
            alice, Product.objects.get(slug="breton-stripe-tee"), other.results.get()
        ).tryon.job
    )
    client.force_login(reviewer)

    page = client.get(reverse(TRYONS)).content.decode()
    asked_by = cell(page, "asked_by", bobs_tryon)
    link = re.search(r'href="([^"]+)"[^>]*>bob<', asked_by).group(1).replace("&amp;", "&")

    assert ">bob<" in asked_by and "alice" not in asked_by
    assert ">alice<" in cell(page, "asked_by", alices.job)
    assert listed_ids(client.get(link)) == {bobs_tryon.pk}
    assert listed_ids(client.get(reverse(TRYONS), {"q": "bob"})) == {bobs_tryon.pk}
    assert alices_own.pk in listed_ids(client.get(reverse(TRYONS)))


def test_the_try_on_page_shows_the_same_read_only(client, reviewer, bobs_tryon, model_avatar):
    client.force_login(reviewer)

    response = client.get(reverse("admin:avatars_tryonjob_change", args=[bobs_tryon.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in page
    assert reverse("avatars:result-thumbnail", args=[bobs_tryon.pk, 0]) in page
    assert reverse("admin:avatars_avatarjob_change", args=[model_avatar.pk]) in page
    assert reverse("shop:garment-image", args=[TEE]) in page
    assert "Shopper who asked" in page and "bob (" in page
    assert "Avatar owner" in page and "alice" in page
    assert f"pred-{bobs_tryon.pk}" in page  # the attempt history


def test_the_try_on_thumbnail_is_an_image_for_staff_who_may_view_jobs(
    client, reviewer, superuser, bobs_tryon
):
    url = reverse("avatars:result-thumbnail", args=[bobs_tryon.pk, 0])

    for user in (reviewer, superuser):
        client.force_login(user)
        response = client.get(url)

        assert response.status_code == 200, user
        assert response["Content-Type"] == "image/jpeg"
        with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
            assert image.size == (32, 48)


def test_the_try_on_thumbnail_is_404_for_everyone_else(client, alice, bob, staff, bobs_tryon):
    url = reverse("avatars:result-thumbnail", args=[bobs_tryon.pk, 0])
    # Bob owns the try-on job (he asked) and it shows Alice's avatar: each of them reaches it
    # only through a look, never at the avatar's address. Staff without permissions see nothing.
    for user in (alice, bob, staff):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_a_reviewer_can_view_try_ons_and_staff_without_the_permission_cannot(
    client, reviewer, staff, bobs_tryon
):
    client.force_login(reviewer)
    index = client.get(reverse("admin:index")).content.decode()
    listing = client.get(reverse(TRYONS))
    client.force_login(staff)
    refused_list = client.get(reverse(TRYONS))
    refused_page = client.get(reverse("admin:avatars_tryonjob_change", args=[bobs_tryon.pk]))

    assert reverse(TRYONS) in index
    assert listing.status_code == 200
    assert refused_list.status_code == 403
    assert refused_page.status_code == 403


def test_try_ons_take_no_permissions_of_their_own():
    """The job permissions govern try-ons: the "Reviewers" group needs nothing new."""
    proxy = ContentType.objects.get_for_model(TryOnJob, for_concrete_model=False)

    assert not Permission.objects.filter(content_type=proxy).exists()


def test_retry_failed_calls_the_retry_service_and_reports_what_it_skipped(
    client, reviewer, bob, model_avatar, bobs_tryon
):
    failed = fail(
        shop.try_on(
            bob, Product.objects.get(slug="breton-stripe-tee"), model_avatar.results.get()
        ).tryon.job
    )
    client.force_login(reviewer)

    response = client.post(
        reverse(TRYONS),
        {"action": "retry_failed", "_selected_action": [str(failed.pk), str(bobs_tryon.pk)]},
        follow=True,
    )

    page = response.content.decode()
    assert AvatarJob.objects.get(pk=failed.pk).status == JobStatus.QUEUED
    assert AvatarJob.objects.get(pk=bobs_tryon.pk).status == JobStatus.COMPLETED
    assert "Retried 1 job." in page
    assert "Skipped 1 job. 1 job:" in page


def test_nothing_on_a_try_on_is_edited_or_deleted_by_hand(client, superuser, bobs_tryon):
    client.force_login(superuser)

    listing = client.get(reverse(TRYONS)).content.decode()
    page = client.get(reverse("admin:avatars_tryonjob_change", args=[bobs_tryon.pk]))
    delete = client.post(
        reverse("admin:avatars_tryonjob_delete", args=[bobs_tryon.pk]), {"post": "yes"}
    )

    assert 'value="delete_selected"' not in listing
    assert 'name="_save"' not in page.content.decode()
    assert delete.status_code == 403
    assert AvatarJob.objects.filter(pk=bobs_tryon.pk).exists()


def test_the_try_on_list_costs_the_same_queries_for_one_try_on_or_seven(
    client, reviewer, alice, bob, model_avatar, bobs_tryon
):
    client.force_login(reviewer)
    client.get(reverse(TRYONS))  # warm up: sessions, content types

    with CaptureQueriesContext(connection) as few:
        client.get(reverse(TRYONS))
    for slug in ("breton-stripe-tee", "sunset-logo-tee"):
        for shopper in (alice, bob):
            shop.try_on(shopper, Product.objects.get(slug=slug), model_avatar.results.get())
        avatar = make_finished_job(bob)
        finish_with_picture(
            shop.try_on(bob, Product.objects.get(slug=slug), avatar.results.get()).tryon.job
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(TRYONS))

    assert len(listed_ids(response)) == 7  # the first, and 3 per tee: each shopper's, Bob's own
    assert len(many) == len(few)


def test_the_avatar_list_shows_the_fashn_options_and_the_credits(client, reviewer, alice):
    job = make_finished_job(alice, generation_mode="quality", resolution="2k", num_images=3)
    client.force_login(reviewer)

    page = client.get(reverse(AVATARS)).content.decode()

    assert "quality<br>2k ×3" in cell(page, "fashn_options", job)
    # Used (what FASHN reported) and estimated (quality 2k: 4 credits an image, times 3).
    credits = cell(page, "credits_used_and_estimated", job)
    assert credits.startswith("1<br>")
    assert "est. 12" in credits


def test_a_try_on_at_the_avatar_lists_address_leads_to_its_try_on_page(
    client, reviewer, bobs_tryon
):
    client.force_login(reviewer)

    response = client.get(reverse("admin:avatars_avatarjob_change", args=[bobs_tryon.pk]))
    nonsense = client.get(reverse("admin:avatars_avatarjob_change", args=["not-a-job"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:avatars_tryonjob_change", args=[bobs_tryon.pk])
    assert nonsense.status_code == 302  # Django's "does not exist" message on the index
    assert nonsense["Location"] == reverse("admin:index")


def test_an_avatars_page_links_to_its_try_ons(client, reviewer, alice, model_avatar, bobs_tryon):
    other = make_finished_job(alice, prompt="slim build")
    finish_with_picture(
        shop.try_on(alice, Product.objects.get(slug=TEE), other.results.get()).tryon.job
    )
    client.force_login(reviewer)

    page = client.get(reverse("admin:avatars_avatarjob_change", args=[model_avatar.pk]))
    link = re.search(r'href="([^"]+)">1 try-on of this avatar<', page.content.decode())

    assert link, "no link to the avatar's try-ons"
    assert listed_ids(client.get(link.group(1).replace("&amp;", "&"))) == {bobs_tryon.pk}


def test_the_try_on_list_shows_both_models_with_their_cost(client, reviewer, bob, model_avatar):
    tee = Product.objects.get(slug=TEE)
    standard = shop.try_on(bob, tee, model_avatar.results.get()).tryon.job
    premium = shop.try_on(bob, tee, model_avatar.results.get(), model_name="tryon-max").tryon.job
    client.force_login(reviewer)

    response = client.get(reverse(TRYONS))
    premium_only = listed_ids(client.get(reverse(TRYONS), {"model_name__exact": "tryon-max"}))

    assert listed_ids(response) == {standard.pk, premium.pk}
    assert premium_only == {premium.pk}
    page = response.content.decode()
    assert "tryon-v1.6" in cell(page, "tryon_model", standard)
    assert "est. 1" in cell(page, "tryon_model", standard)
    assert "tryon-max" in cell(page, "tryon_model", premium)
    assert "est. 4" in cell(page, "tryon_model", premium)
    detail = client.get(reverse("admin:avatars_tryonjob_change", args=[premium.pk]))
    assert detail.status_code == 200
    assert "quality" in detail.content.decode()
