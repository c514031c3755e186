"""The review gate: only approved avatars whose owner still consents are ever shown publicly, and
the owner's choices (offer, withdraw) take effect at once."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from avatar_studio.avatars import refusals, selectors
from avatar_studio.avatars.models import AvatarJob, ReviewState
from avatar_studio.avatars.refusals import Refused
from avatar_studio.avatars.review import services as review

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db


def public_ids():
    return {job.pk for job in selectors.approved_public_avatars()}


def test_a_new_avatar_is_private_and_not_public(alice):
    job = make_finished_job(alice)

    assert job.review_state == ReviewState.PRIVATE
    assert public_ids() == set()


def test_pending_and_rejected_avatars_never_appear_publicly(alice, bob, staff):
    pending = make_finished_job(alice)
    rejected = make_finished_job(bob)
    for job in (pending, rejected):
        review.offer_for_display(job)
    review.reject(rejected, reviewer=staff, reason="The face is cut off.")

    assert AvatarJob.objects.get(pk=pending.pk).review_state == ReviewState.PENDING
    assert AvatarJob.objects.get(pk=rejected.pk).review_state == ReviewState.REJECTED
    assert public_ids() == set()


def test_an_approved_avatar_appears_with_its_images_in_two_queries(
    alice, staff, offered_job, django_assert_num_queries
):
    review.approve(offered_job, reviewer=staff)

    with django_assert_num_queries(2):
        avatars = list(selectors.approved_public_avatars())
        images = [result.image.name for job in avatars for result in job.results.all()]

    assert [job.pk for job in avatars] == [offered_job.pk]
    assert len(images) == 1


def test_withdrawing_consent_removes_an_approved_avatar_at_once(alice, staff, offered_job):
    review.approve(offered_job, reviewer=staff)
    assert public_ids() == {offered_job.pk}

    review.withdraw_from_display(offered_job)

    job = AvatarJob.objects.get(pk=offered_job.pk)
    assert job.review_state == ReviewState.PRIVATE
    assert job.public_consent_at is None
    assert public_ids() == set()
    # Staff cannot approve it again without the owner offering it anew.
    with pytest.raises(Refused) as refused:
        review.approve(job, reviewer=staff)
    assert refused.value.reason == refusals.NOT_OFFERED
    assert public_ids() == set()


def test_an_approval_racing_a_withdrawal_cannot_show_it(alice, staff, offered_job):
    """Staff read the job while it was pending; the owner withdrew before the click landed."""
    stale = AvatarJob.objects.get(pk=offered_job.pk)
    review.withdraw_from_display(offered_job)

    # It looked approvable when read; the compare-and-swap sees it is not any more.
    with pytest.raises(Refused) as refused:
        review.approve(stale, reviewer=staff)
    assert refused.value.reason == refusals.CHANGED_MEANWHILE
    assert public_ids() == set()


def test_failed_and_running_jobs_cannot_be_offered_or_approved(alice, staff):
    failed = make_finished_job(alice, status="failed")
    running = make_job(alice)

    for job, reason in ((failed, refusals.NOTHING_TO_SHOW), (running, refusals.NOT_MADE_YET)):
        with pytest.raises(Refused) as offered:
            review.offer_for_display(job)
        with pytest.raises(Refused) as approved:
            review.approve(job, reviewer=staff)
        assert offered.value.reason == approved.value.reason == reason
        assert AvatarJob.objects.get(pk=job.pk).review_state == ReviewState.PRIVATE
    assert public_ids() == set()


def test_a_deactivated_owners_avatar_is_not_public(alice, staff, offered_job):
    review.approve(offered_job, reviewer=staff)
    alice.is_active = False
    alice.save()

    assert public_ids() == set()


def test_staff_can_take_down_an_approved_avatar(alice, staff, offered_job):
    review.approve(offered_job, reviewer=staff)

    review.reject(offered_job, reviewer=staff, reason="Shows a logo.")

    assert public_ids() == set()
    assert AvatarJob.objects.get(pk=offered_job.pk).review_reason == "Shows a logo."


def test_a_rejection_needs_a_reason(staff, offered_job):
    with pytest.raises(Refused) as refused:
        review.reject(offered_job, reviewer=staff, reason="   ")
    assert refused.value.reason == refusals.REASON_REQUIRED
    assert AvatarJob.objects.get(pk=offered_job.pk).review_state == ReviewState.PENDING


# --- the owner's pages ------------------------------------------------------------------------


def test_the_owner_offers_and_withdraws_from_the_job_page(client, alice):
    job = make_finished_job(alice)
    client.force_login(alice)

    offered = client.post(reverse("avatars:showcase-offer", args=[job.pk]), follow=True)
    assert AvatarJob.objects.get(pk=job.pk).review_state == ReviewState.PENDING
    assert "until they approve it, only you can see it" in offered.content.decode()

    client.post(reverse("avatars:showcase-withdraw", args=[job.pk]))
    assert AvatarJob.objects.get(pk=job.pk).review_state == ReviewState.PRIVATE


def test_another_user_cannot_offer_or_withdraw_someone_elses_avatar(client, bob, offered_job):
    client.force_login(bob)

    assert client.post(reverse("avatars:showcase-offer", args=[offered_job.pk])).status_code == 404
    withdraw = client.post(reverse("avatars:showcase-withdraw", args=[offered_job.pk]))

    assert withdraw.status_code == 404
    assert AvatarJob.objects.get(pk=offered_job.pk).review_state == ReviewState.PENDING


def test_a_failed_avatar_cannot_be_offered_from_the_page(client, alice):
    job = make_finished_job(alice, status="failed")
    client.force_login(alice)

    page = client.post(reverse("avatars:showcase-offer", args=[job.pk]), follow=True)

    assert refusals.NOTHING_TO_SHOW.message in page.content.decode()
    assert AvatarJob.objects.get(pk=job.pk).review_state == ReviewState.PRIVATE


def _snippet(job, user, is_owner=True):
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(
        "avatars/_review.html", {"job": job, "is_owner": is_owner}, request=request
    )


def test_the_owner_reads_the_rejection_reason(alice, staff, offered_job):
    review.reject(offered_job, reviewer=staff, reason="The face is cut off at the top.")
    job = AvatarJob.objects.get(pk=offered_job.pk)

    html = _snippet(job, alice)

    assert "The face is cut off at the top." in html
    assert reverse("avatars:showcase-withdraw", args=[job.pk]) in html
    assert _snippet(job, alice, is_owner=False).strip() == ""


def test_the_snippet_offers_a_private_avatar(alice):
    job = make_finished_job(alice)

    assert reverse("avatars:showcase-offer", args=[job.pk]) in _snippet(job, alice)
