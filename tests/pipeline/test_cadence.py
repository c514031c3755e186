"""The poll cadence: learnt from recent predictions, aimed at their end, within budget."""

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from avatar_studio.avatars.models import PredictionAttempt
from avatar_studio.avatars.pipeline import cadence

from ..support.jobs import make_job


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def plan(median=10.0, high=None, *, in_flight=6, status=5.0, webhooks=False, **limits):
    expected = cadence.Expected(median=median, high=high or median, samples=20)
    return cadence.make_plan(
        expected, in_flight_limit=in_flight, status_per_second=status, webhooks=webhooks, **limits
    )


# --- learning ----------------------------------------------------------------------------------


def test_too_few_samples_give_no_estimate():
    assert cadence.learn([3.0] * (cadence.MIN_SAMPLES - 1)) is None


def test_the_estimate_is_the_median_and_the_90th_percentile():
    expected = cadence.learn([float(n) for n in range(1, 21)])

    assert expected.median == 10.5
    assert expected.high == 19.0
    assert expected.samples == 20


def test_negative_durations_are_ignored():
    assert cadence.learn([-1.0] * 10) is None


# --- the plan ----------------------------------------------------------------------------------


def test_the_first_poll_comes_just_before_the_usual_end():
    p = plan(median=12.0, high=14.0)

    assert p.first == pytest.approx(0.9 * 12.0)
    assert p.until == 14.0


def test_short_polls_are_a_twentieth_of_the_usual_time_when_the_budget_allows():
    p = plan(median=12.0, high=12.5, in_flight=6, status=5.0)

    assert p.step == pytest.approx(0.6)


def test_short_polls_never_go_below_the_floor():
    p = plan(median=1.0, in_flight=1, status=100.0)

    assert p.step == cadence.MIN_STEP_SECONDS


def test_the_status_budget_widens_the_step():
    # 6 slots sharing 5 calls/s, 3 s predictions: 0.8 * 5 * 3 / 6 = 2 calls per job.
    p = plan(median=3.0, high=3.6, in_flight=6, status=5.0)

    assert p.step == pytest.approx((3.0 - 0.9 * 3.0) / (2.0 - 1))
    polls_per_typical_job = 1 + (3.0 - p.first) / p.step
    assert polls_per_typical_job <= 0.8 * 5.0 * 3.0 / 6


def test_with_no_budget_for_short_polls_one_more_poll_covers_the_window():
    p = plan(median=3.0, high=4.0, in_flight=1000, status=5.0)

    assert p.step == pytest.approx(4.0 - 0.9 * 3.0)


def test_the_step_never_exceeds_the_backoff_cap():
    p = plan(median=3.0, high=40.0, in_flight=1000, status=5.0, max_backoff=15.0)

    assert p.step == 15.0


def test_with_webhooks_polling_is_only_a_safety_net_after_the_usual_end():
    p = plan(median=12.0, high=14.0, webhooks=True)

    assert p.first == pytest.approx(14.0 + 0.25 * 12.0)
    assert p.until == p.first  # no short polls: backoff straight away


# --- the waits ---------------------------------------------------------------------------------


def test_the_first_delay_is_the_plan_spread_only_later():
    p = plan(median=10.0)

    delays = [cadence.first_delay(p) for _ in range(200)]

    assert min(delays) >= 9.0
    assert max(delays) <= 9.0 * 1.1


def test_an_early_poll_waits_for_the_plan_again():
    p = plan(median=10.0)

    assert cadence.next_delay(p, age=2.0, jitter=0) == pytest.approx(7.0)


def test_around_the_expected_end_polls_are_short():
    p = plan(median=10.0, high=12.0)

    for age in (9.0, 10.0, 11.9):
        assert cadence.next_delay(p, age=age, jitter=0) == pytest.approx(p.step)


def test_an_overdue_prediction_backs_off_to_the_cap():
    p = plan(median=10.0, high=12.0, max_backoff=15.0)

    assert cadence.next_delay(p, age=12.0, jitter=0) == pytest.approx(p.step)
    assert cadence.next_delay(p, age=22.0, jitter=0) == pytest.approx(5.0)
    assert cadence.next_delay(p, age=300.0, jitter=0) == 15.0


def test_no_wait_outlives_the_slot_lease():
    p = plan(median=600.0, max_wait=60.0)

    assert cadence.first_delay(p) <= 60.0
    assert cadence.next_delay(p, age=1.0) <= 60.0


def test_a_poll_schedule_catches_a_fixed_time_prediction_soon_and_within_budget():
    # Predictions of exactly 3 s on a full account (6 slots, 5 status calls/s): simulate polls.
    T = 3.0
    p = plan(median=T + 0.2, high=T + 0.3, in_flight=6, status=5.0)
    lags, calls = [], []
    for _ in range(500):
        age, n = cadence.first_delay(p), 1
        while age < T:
            age += cadence.next_delay(p, age)
            n += 1
        lags.append(age - T)
        calls.append(n)

    assert sum(lags) / len(lags) < 0.3
    assert sum(calls) / len(calls) <= 0.8 * 5.0 * (T + 0.2) / 6 + 0.5


# --- from the database, through services ---------------------------------------------------


def _completed_attempts(job, durations, *, ago=timedelta(0)):
    now = timezone.now() - ago
    for number, seconds in enumerate(durations, start=1):
        PredictionAttempt.objects.create(
            job=job,
            number=number,
            prediction_id=str(uuid.uuid4()),
            status="completed",
            submitted_at=now - timedelta(seconds=seconds),
            finished_at=now,
        )


@pytest.mark.django_db
def test_durations_come_from_recent_completed_attempts_of_the_model(alice):
    job = make_job(alice)
    _completed_attempts(job, [4.0, 5.0, 6.0])
    PredictionAttempt.objects.create(
        job=job,
        number=10,
        prediction_id="still-running",
        status="processing",
        submitted_at=timezone.now(),
    )
    old = make_job(alice)
    _completed_attempts(old, [50.0], ago=cadence.LOOKBACK + timedelta(minutes=1))

    assert sorted(cadence.recent_durations(job.model_name)) == pytest.approx([4.0, 5.0, 6.0])
    assert cadence.recent_durations("tryon-v1.6") == []


@pytest.mark.django_db
def test_with_no_history_the_fixed_schedule_is_kept(alice, settings):
    settings.AVATAR_FIRST_POLL_SECONDS = 8.0
    settings.AVATAR_POLL_MIN_SECONDS = 1.0
    settings.AVATAR_POLL_MAX_SECONDS = 15.0
    job = make_job(alice)

    assert 7.2 <= cadence.first_poll_delay(job.model_name) <= 8.8
    assert 0.8 * 2.25 <= cadence.poll_delay(2) <= 1.2 * 2.25


@pytest.mark.django_db
def test_with_history_the_first_poll_is_near_the_usual_end(alice, settings):
    settings.AVATAR_FIRST_POLL_SECONDS = 1.0
    settings.PUBLIC_BASE_URL = ""
    job = make_job(alice)
    _completed_attempts(job, [12.0] * 10)

    assert 0.9 * 12.0 <= cadence.first_poll_delay(job.model_name) <= 0.9 * 12.0 * 1.1


@pytest.mark.django_db
def test_with_history_a_running_prediction_is_polled_shortly_around_its_end(alice, settings):
    settings.AVATAR_POLL_MAX_SECONDS = 15.0
    settings.PUBLIC_BASE_URL = ""
    settings.FASHN_STATUS_RATE = "50/10"
    settings.FASHN_MAX_IN_FLIGHT = 6
    job = make_job(alice)
    _completed_attempts(job, [12.0] * 10)
    running = PredictionAttempt.objects.create(
        job=job,
        number=20,
        prediction_id="running",
        status="processing",
        submitted_at=timezone.now() - timedelta(seconds=11.0),
    )

    delay = cadence.poll_delay(1, attempt=running, model_name=job.model_name)

    assert 0.6 * 0.9 <= delay <= 0.6 * 1.1  # a twentieth of 12 s, with jitter


@pytest.mark.django_db
def test_with_webhooks_on_the_first_poll_waits_past_the_usual_end(alice, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    job = make_job(alice)
    _completed_attempts(job, [12.0] * 10)

    assert cadence.first_poll_delay(job.model_name) >= 12.0 + 0.25 * 12.0
