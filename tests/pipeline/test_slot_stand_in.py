"""A /v1/run refused for the account's concurrency: FASHN counts a prediction our slots do not.

The slot stays taken by a stand-in instead of waking the next waiting job, which FASHN would
refuse too, and the next, until that prediction ends.
"""

from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.avatars.pipeline import steps
from avatar_studio.avatars.pipeline.limits import fashn_limits

from ..support.jobs import make_job


def _submit(job):
    """Run the job's submit step, with the token it holds now (as its queued message would)."""
    steps.submit_job(job.pk, AvatarJob.objects.get(pk=job.pk).step_token)
    return AvatarJob.objects.get(pk=job.pk)


def _refused(engine):
    return engine.stats()["rejected"].get("ConcurrencyLimitExceeded", 0)


def test_a_run_refused_for_concurrency_keeps_the_slot_taken_and_wakes_no_one(
    engine, alice, bob, settings
):
    engine.configure(max_in_flight=1, processing_seconds=60)
    settings.FASHN_MAX_IN_FLIGHT = 1
    slots = fashn_limits().in_flight
    slots.client.delete(slots.key)
    unknown = _submit(make_job(alice, seed=0))
    assert unknown.status == JobStatus.SUBMITTED and slots.holders() == [str(unknown.pk)]
    slots.client.delete(slots.key)  # the slot set lost (Redis restarted): the account is full
    first, *rest = (make_job(bob, seed=seed) for seed in range(3))

    first = _submit(first)
    for job in rest:  # their rechecks, or the wake-ups the refusal would have sent
        _submit(job)

    assert _refused(engine) == 1
    assert (first.status, first.waiting_for_slot) == (JobStatus.QUEUED, False)  # tries again
    (holder,) = slots.holders()
    assert holder.startswith("stand-in:")  # neither the refused job nor a woken one
    assert all(AvatarJob.objects.get(pk=job.pk).waiting_for_slot for job in rest)
    assert engine.stats()["run_calls"] == 2


def test_the_stand_in_frees_itself_when_the_refused_job_tries_again(engine, alice, settings):
    settings.FASHN_MAX_IN_FLIGHT = 1
    slots = fashn_limits().in_flight
    slots.client.delete(slots.key)
    job = make_job(alice)
    assert slots.acquire(job.pk, 60)

    assert slots.hand_to_stand_in(job.pk, 30)

    ((stand_in, expires),) = slots.client.zrange(slots.key, 0, -1, withscores=True)
    seconds, microseconds = slots.client.time()
    assert 29 <= expires - (seconds + microseconds / 1e6) <= 30
    assert slots.free() == 0
    # A job that held no slot hands none on: the count never grows past the limit.
    assert not slots.hand_to_stand_in(job.pk, 30)
    assert slots.in_use() == 1
