"""Who may do what in the admin: reviewers review and retry but never delete or manage users;
staff outside the group and non-staff users get nothing."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from avatar_studio.avatars.models import AvatarJob, JobStatus, ReviewState

from ..support.jobs import make_finished_job

pytestmark = pytest.mark.django_db


def changelist():
    return reverse("admin:avatars_avatarjob_changelist")


def post_action(client, action, job, **extra):
    return client.post(changelist(), {"action": action, "_selected_action": [str(job.pk)], **extra})


def test_the_reviewers_group_holds_exactly_the_review_permissions():
    group = Group.objects.get(name="Reviewers")

    codenames = set(group.permissions.values_list("codename", flat=True))

    assert codenames == {
        "view_avatarjob",
        "review_avatarjob",
        "retry_avatarjob",
        "view_predictionattempt",
        "view_avatarresult",
    }


def test_a_reviewer_can_approve_and_retry(client, reviewer, alice, offered_job):
    failed = make_finished_job(alice, status="failed")
    client.force_login(reviewer)

    page = client.get(changelist()).content.decode()
    post_action(client, "approve_for_display", offered_job)
    post_action(client, "retry_failed", failed)

    for action in ("approve_for_display", "reject_for_display", "retry_failed"):
        assert f'value="{action}"' in page
    assert AvatarJob.objects.get(pk=offered_job.pk).review_state == ReviewState.APPROVED
    assert AvatarJob.objects.get(pk=failed.pk).status == JobStatus.QUEUED


def test_a_reviewer_cannot_delete_jobs(client, reviewer, alice):
    job = make_finished_job(alice)
    client.force_login(reviewer)

    page = client.get(changelist()).content.decode()
    action = post_action(client, "delete_selected", job, post="yes")
    delete_page = client.post(
        reverse("admin:avatars_avatarjob_delete", args=[job.pk]), {"post": "yes"}
    )

    assert 'value="delete_selected"' not in page
    assert action.status_code in (200, 302)  # Django answers "no action selected"
    assert delete_page.status_code == 403
    assert AvatarJob.objects.filter(pk=job.pk).exists()


def test_a_reviewer_cannot_change_a_job(client, reviewer, alice):
    job = make_finished_job(alice)
    client.force_login(reviewer)

    page = client.get(reverse("admin:avatars_avatarjob_change", args=[job.pk]))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_a_reviewer_cannot_see_or_delete_users_or_groups(client, reviewer, alice):
    client.force_login(reviewer)

    users = client.get(reverse("admin:auth_user_changelist"))
    delete_user = client.post(reverse("admin:auth_user_delete", args=[alice.pk]), {"post": "yes"})
    groups = client.get(reverse("admin:auth_group_changelist"))
    change_group = client.post(
        reverse("admin:auth_group_change", args=[reviewer.groups.get().pk]), {"name": "Owners"}
    )

    assert users.status_code == 403
    assert delete_user.status_code == 403
    assert groups.status_code == 403
    assert change_group.status_code == 403
    assert alice.__class__.objects.filter(pk=alice.pk).exists()
    assert Group.objects.filter(name="Reviewers").exists()


def test_a_reviewer_sees_the_dashboard_and_the_operations_links(client, reviewer, engine):
    client.force_login(reviewer)

    index = client.get(reverse("admin:index")).content.decode()
    dashboard = client.get(reverse("admin:avatars_avatarjob_dashboard"))

    assert reverse("admin:avatars_avatarjob_dashboard") in index
    assert "Review queue" in index
    assert "Users" not in index
    assert dashboard.status_code == 200


def test_staff_outside_the_group_get_nothing(client, staff, offered_job):
    client.force_login(staff)

    assert client.get(changelist()).status_code == 403
    assert client.get(reverse("admin:avatars_avatarjob_dashboard")).status_code == 403
    assert post_action(client, "approve_for_display", offered_job).status_code == 403
    assert AvatarJob.objects.get(pk=offered_job.pk).review_state == ReviewState.PENDING


@pytest.mark.parametrize(
    "url_name", ["admin:avatars_avatarjob_changelist", "admin:avatars_avatarjob_dashboard"]
)
def test_a_non_staff_user_is_sent_to_the_admin_login(client, alice, url_name):
    client.force_login(alice)

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_non_staff_user_cannot_run_actions(client, alice, offered_job):
    client.force_login(alice)

    response = post_action(client, "approve_for_display", offered_job)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert AvatarJob.objects.get(pk=offered_job.pk).review_state == ReviewState.PENDING
