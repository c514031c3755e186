"""The credits ledger as a real worker settles it: a failed prediction gives its reservation
back, a completed one counts what the engine reported in x-fashn-credits-used."""

import pytest

from avatar_studio.avatars import quota
from avatar_studio.avatars.models import JobStatus
from avatar_studio.credits.models import CreditState, CreditUse

from ..support.jobs import make_job, wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_failed_prediction_costs_nothing_and_a_completed_one_what_fashn_charged(
    start_worker, engine, alice, settings
):
    settings.AVATAR_DAILY_CREDITS = 3
    engine.add_faults({"on": "prediction", "error_name": "PoseError", "times": 1})
    start_worker()

    failed = wait_until_finished(make_job(alice))

    # The fault hit: the one prediction failed with it, and the engine charged nothing.
    assert (failed.status, failed.error_name) == (JobStatus.FAILED, "PoseError")
    assert engine.stats()["runs_accepted"] == 1
    assert engine.stats()["credits_used"] == 0
    row = CreditUse.objects.get(job_id=failed.pk)
    assert (row.state, row.estimated, row.charged) == (CreditState.REFUNDED, 2, 0)
    assert quota.used_today(alice) == 0

    # The 3 credits are all there: 2 images at "fast" (1 credit each) fit, and complete.
    done = wait_until_finished(make_job(alice, generation_mode="fast", num_images=2))

    assert done.status == JobStatus.COMPLETED
    [attempt] = done.attempts.all()
    assert attempt.credits_used == engine.stats()["credits_used"] == 2
    row = CreditUse.objects.get(job_id=done.pk)
    assert (row.state, row.estimated, row.charged) == (CreditState.CHARGED, 2, 2)
    assert quota.used_today(alice) == 2
