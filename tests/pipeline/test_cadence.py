"""The poll cadence: learnt from recent predictions, aimed at their end, within budget."""

import functools
import statistics
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
    high = high or median
    expected = cadence.Expected(median=median, high=high, samples=20, spread=high - median)
    return cadence.make_plan(
        expected, in_flight_limit=in_flight, status_per_second=status, webhooks=webhooks, **limits
    )


# --- learning ----------------------------------------------------------------------------------


def ended_by(*seconds):
    return [cadence.Sample(ended_by=s) for s in seconds]


def test_too_few_samples_give_no_estimate():
    assert cadence.learn(ended_by(*[3.0] * (cadence.MIN_SAMPLES - 1))) is None


def test_the_estimate_is_the_median_and_the_90th_percentile():
    expected = cadence.learn(ended_by(*[float(n) for n in range(1, 21)]))

    assert expected.median == 10.5
    assert expected.high == 19.0
    assert expected.samples == 20


def test_negative_durations_are_ignored():
    assert cadence.learn(ended_by(*[-1.0] * 10)) is None


def test_how_far_the_ends_lay_from_the_median_is_read_from_their_brackets():
    # Wide brackets around the median are not far ends; a bracket wholly after it is.
    wide = [cadence.Sample(ended_by=7.0, running_at=5.4)] * 8
    far = [cadence.Sample(ended_by=7.4, running_at=7.0)] * 2

    assert cadence.learn(wide).spread == 0.0
    assert cadence.learn(wide + far).spread == pytest.approx(7.0 - 6.2)


def test_a_first_poll_that_found_the_end_is_learnt_half_a_typical_bracket_earlier():
    # Five bracketed within 0.4 s, five whose first poll found them ended by 6.3 s.
    samples = [cadence.Sample(ended_by=6.2, running_at=5.8)] * 5 + ended_by(*[6.3] * 5)

    expected = cadence.learn(samples)

    assert expected.uncertainty == pytest.approx(0.2)
    assert expected.median == pytest.approx((6.0 + 6.1) / 2)  # not 6.15: no creeping up


def test_ends_told_by_webhooks_are_learnt_as_seen_whatever_a_few_wide_brackets_say():
    # Two cold-start brackets 5 s wide; every other poll came with the webhook, at the end.
    samples = [cadence.Sample(ended_by=6.05, running_at=1.05)] * 2 + ended_by(*[6.03] * 38)

    assert cadence.learn(samples).median == pytest.approx(6.03)


def test_a_prediction_ended_in_the_middle_of_its_bracket():
    # Still running when asked at 5.8 s, ended by the answer at 6.4 s: not 6.4 s, which would
    # learn our own detection delay as the prediction's.
    assert cadence.Sample(ended_by=6.4, running_at=5.8).duration == pytest.approx(6.1)
    assert cadence.Sample(ended_by=6.4).duration == 6.4  # only an upper bound
    # A "running" answer after the end was seen (a stale poll) is no bracket.
    assert not cadence.Sample(ended_by=6.4, running_at=7.0).bracketed


def test_how_far_off_the_median_may_be_is_half_a_typical_bracket():
    # Polled on the fixed schedule (1, 2.5, 4.75, 8.1 s): ended somewhere in 3.35 s.
    samples = [cadence.Sample(ended_by=8.1, running_at=4.75)] * 6

    assert cadence.learn(samples).uncertainty == pytest.approx(1.675)


def test_the_median_errs_less_than_one_bracket_the_more_brackets_it_is_the_median_of():
    samples = [cadence.Sample(ended_by=7.0 + phase, running_at=5.0 + phase) for phase in range(4)]

    expected = cadence.learn(samples + ended_by(6.5))

    assert expected.uncertainty == pytest.approx(1.0)
    assert expected.median_error == pytest.approx(1.0 / 2)  # four brackets: half of one


def test_a_typical_bracket_is_one_of_the_newest_so_the_cold_starts_stop_counting():
    newest = [cadence.Sample(ended_by=6.1, running_at=5.9)] * cadence.RECENT_BRACKETS
    cold_start = [cadence.Sample(ended_by=7.5, running_at=4.5)] * (cadence.SAMPLE_SIZE - 10)

    assert cadence.learn(newest + cold_start).uncertainty == pytest.approx(0.1)
    assert cadence.learn(cold_start + newest).uncertainty == pytest.approx(1.5)


def test_the_share_of_first_polls_that_came_too_late_is_learnt():
    samples = ended_by(6.5, 6.6, 6.7) + [cadence.Sample(6.3, 5.9)] * 7

    assert cadence.learn(samples).late_share == pytest.approx(0.3)


# --- the plan ----------------------------------------------------------------------------------


def test_the_first_poll_comes_one_short_step_before_the_usual_end():
    p = plan(median=12.0, high=14.0)

    assert p.first == pytest.approx(12.0 - p.step)
    assert p.until == 14.0


def test_the_first_poll_comes_no_earlier_than_a_tenth_before_the_usual_end():
    # A wide step (little budget) must not pull the first poll far ahead of the end.
    p = plan(median=3.0, high=4.0, in_flight=1000, status=5.0)

    assert p.first == pytest.approx(0.9 * 3.0)


def test_wide_brackets_bring_the_first_poll_as_far_before_the_end_as_the_median_may_be_off():
    expected = cadence.Expected(median=6.4, high=6.4, samples=6, uncertainty=1.2, median_error=0.5)

    p = cadence.make_plan(expected, in_flight_limit=6, status_per_second=5.0)

    assert p.step < 0.5
    assert p.first == pytest.approx(6.4 - 0.5)


def test_when_most_first_polls_came_too_late_the_first_poll_comes_earlier():
    expected = cadence.Expected(median=7.5, high=7.8, samples=40, late_share=0.95)

    p = cadence.make_plan(expected, in_flight_limit=6, status_per_second=5.0)

    assert p.first == pytest.approx(cadence.PROBE_FRACTION * 7.5)


def test_short_polls_are_a_twentieth_of_the_usual_time_when_the_budget_allows():
    p = plan(median=12.0, high=13.0, in_flight=6, status=5.0)

    assert p.step == pytest.approx(0.6)


def test_when_durations_are_regular_the_first_poll_is_spread_across_the_end():
    # All within a step (0.6 s) of the median: half a step either side of it, then half steps.
    p = plan(median=12.0, high=12.5, in_flight=6, status=5.0)

    assert (p.first, p.spread, p.step) == pytest.approx((12.0 - 0.3, 0.6, 0.3))
    delays = [cadence.first_delay(p) for _ in range(200)]
    assert min(delays) >= 11.7 and max(delays) <= 12.3
    assert sum(delay > 12.0 for delay in delays) > 50  # many see the end with one call


def test_regular_durations_learnt_from_wide_brackets_are_aimed_before_the_end_first():
    # The median may be off by more than the spread: first bracket the end closely again.
    expected = cadence.Expected(median=12.0, high=12.0, samples=40, uncertainty=0.5)

    p = cadence.make_plan(expected, in_flight_limit=6, status_per_second=5.0)

    assert p.first == pytest.approx(12.0 - 0.6)
    assert p.spread == pytest.approx(p.step / 2)


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


def test_the_first_delay_is_the_plan_spread_only_later_by_up_to_half_a_step():
    p = plan(median=10.0, high=12.0)

    delays = [cadence.first_delay(p) for _ in range(200)]

    assert min(delays) >= p.first
    assert max(delays) <= p.first + p.step / 2
    assert max(delays) - min(delays) > p.step / 4  # spread, not all in one instant


def test_an_early_poll_waits_for_the_plan_again():
    p = plan(median=10.0)

    assert cadence.next_delay(p, age=2.0, jitter=0) == pytest.approx(p.first - 2.0)


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


def _poll_rounds(T, expected, rounds, jobs=40):
    """Rounds of predictions of exactly T seconds on a full account (6 slots, 5 status calls/s),
    each polled by the plan learnt from the round before. Per round: the learnt median, the mean
    time from each end to the poll that saw it, the mean status calls per prediction."""
    history = []
    for _ in range(rounds):
        p = cadence.make_plan(expected, in_flight_limit=6, status_per_second=5.0)
        samples, lags, calls = [], [], []
        for _ in range(jobs):
            age, running_at, n = cadence.first_delay(p), None, 1
            while age < T:
                running_at = age
                age += cadence.next_delay(p, age)
                n += 1
            samples.append(cadence.Sample(ended_by=age, running_at=running_at))
            lags.append(age - T)
            calls.append(n)
        expected = cadence.learn(samples)
        history.append((expected.median, statistics.mean(lags), statistics.mean(calls)))
    return history


def test_a_fixed_time_prediction_is_learnt_as_its_own_time_not_as_when_we_saw_it_end():
    T = 6.0
    # Where a busy start leaves it: first polls came late, so they saw nothing running.
    too_high = cadence.Expected(median=T + 1.5, high=T + 1.7, samples=40, late_share=1.0)

    history = _poll_rounds(T, too_high, rounds=8)

    settled = history[2:]
    # Learning when the end was seen instead settles about 0.2 s above T (detection delay).
    assert statistics.mean(median for median, _, _ in settled) == pytest.approx(T, abs=0.1)
    assert statistics.mean(lag for _, lag, _ in settled) < 0.2
    budget = 0.8 * 5.0 * T / 6
    assert all(calls <= budget for _, _, calls in settled)
    # Half the predictions seen ended by their first poll: aiming just before the end, with
    # a second poll after it, took 2.3.
    assert statistics.mean(calls for _, _, calls in settled) < 1.8


def test_a_too_high_estimate_comes_down_in_one_round():
    T = 6.0
    too_high = cadence.Expected(median=T + 1.5, high=T + 1.7, samples=40, late_share=1.0)

    (median, _, _), *_ = _poll_rounds(T, too_high, rounds=1)

    assert median == pytest.approx(T, abs=0.3)


def _unlearnt_round(T, jobs=40):
    """One round of predictions of exactly T seconds of a model with no history (first poll at
    1 s), on a full account: the samples, and the mean time from each end to the poll that saw
    it."""
    samples, lags = [], []
    for _ in range(jobs):
        age = cadence.unlearnt_first_delay(1.0, in_flight_limit=6, status_per_second=5.0)
        running_at = None
        while age < T:
            running_at = age
            age += cadence.unlearnt_delay(
                age, in_flight_limit=6, status_per_second=5.0, min_wait=1.0, max_wait=15.0
            )
        samples.append(cadence.Sample(ended_by=age, running_at=running_at))
        lags.append(age - T)
    return samples, statistics.mean(lags)


def test_with_no_history_a_prediction_is_polled_as_often_as_the_budget_allows():
    # 6 slots sharing 80 % of 5 status calls a second: one call every 1.5 s per prediction.
    assert cadence.budget_interval(6, 5.0) == pytest.approx(1.5)
    wait = functools.partial(
        cadence.unlearnt_delay, in_flight_limit=6, status_per_second=5.0, max_wait=15.0, jitter=0
    )

    assert wait(2.0, min_wait=1.0) == pytest.approx(1.5)
    assert wait(2.0, min_wait=2.5) == pytest.approx(2.5)
    assert wait(20.0, min_wait=1.0) == pytest.approx(5.0)  # a quarter of its age, once longer
    assert wait(200.0, min_wait=1.0) == 15.0


def test_with_no_history_the_end_is_seen_within_a_budget_interval_and_learnt_at_once():
    T = 6.0

    samples, lag = _unlearnt_round(T)
    # The backoff used before (1, 2.5, 4.75, 8.1 s) saw a 6 s prediction 2.1 s late, and every
    # bracket was the same 3.35 s.
    assert lag < 1.0
    expected = cadence.learn(samples)
    assert expected.median == pytest.approx(T, abs=0.3)
    assert expected.uncertainty <= 0.85

    (_, next_lag, _), *_ = _poll_rounds(T, expected, rounds=1)
    assert next_lag < 0.4


# --- from the database, through services ---------------------------------------------------


def _completed_attempts(job, durations, *, ago=timedelta(0), bracket=None):
    """Attempts that ended ``durations`` seconds after submission. With ``bracket``, their
    status calls saw them running that long before the end and ended that long after it (then
    0.2 s to store the outputs); without, only when the job finished is known (older rows)."""
    now = timezone.now() - ago
    for number, seconds in enumerate(durations, start=1):
        submitted = now - timedelta(seconds=seconds + (bracket + 0.2 if bracket else 0))
        end = submitted + timedelta(seconds=seconds)
        PredictionAttempt.objects.create(
            job=job,
            number=number,
            prediction_id=str(uuid.uuid4()),
            status="completed",
            submitted_at=submitted,
            running_seen_at=end - timedelta(seconds=bracket) if bracket else None,
            end_seen_at=end + timedelta(seconds=bracket) if bracket else None,
            finished_at=now,
        )


@pytest.mark.django_db
def test_samples_come_from_recent_completed_attempts_of_the_model(alice):
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

    samples = cadence.recent_samples(job.model_name)
    assert sorted(sample.ended_by for sample in samples) == pytest.approx([4.0, 5.0, 6.0])
    assert cadence.recent_samples("tryon-v1.6") == []


@pytest.mark.django_db
def test_a_sample_is_bracketed_by_the_last_running_answer_and_the_first_ended_one(alice):
    job = make_job(alice)
    _completed_attempts(job, [6.0], bracket=0.3)

    (sample,) = cadence.recent_samples(job.model_name)

    assert sample.running_at == pytest.approx(5.7)
    assert sample.ended_by == pytest.approx(6.3)  # not 6.5, when the job finished
    assert sample.duration == pytest.approx(6.0)


def _running_attempt(job, age):
    return PredictionAttempt.objects.create(
        job=job,
        number=20,
        prediction_id=str(uuid.uuid4()),
        status="processing",
        submitted_at=timezone.now() - timedelta(seconds=age),
    )


@pytest.mark.django_db
def test_with_no_history_polls_come_as_often_as_the_status_budget_allows(alice, settings):
    settings.AVATAR_FIRST_POLL_SECONDS = 8.0
    settings.AVATAR_POLL_MIN_SECONDS = 1.0
    settings.AVATAR_POLL_MAX_SECONDS = 15.0
    settings.PUBLIC_BASE_URL = ""
    settings.FASHN_STATUS_RATE = "50/10"
    settings.FASHN_MAX_IN_FLIGHT = 6
    job = make_job(alice)

    assert 8.0 <= cadence.first_poll_delay(job.model_name) <= 8.0 + 1.5  # one budget interval
    young = cadence.poll_delay(1, attempt=_running_attempt(job, 9.0), model_name=job.model_name)
    assert 0.9 * 2.25 <= young <= 1.1 * 2.25  # a quarter of 9 s: longer than 1.5 s
    settings.FASHN_MAX_IN_FLIGHT = 2  # fewer slots share the budget: polled more often
    other = make_job(alice)
    early = cadence.poll_delay(1, attempt=_running_attempt(other, 3.0), model_name=job.model_name)
    assert 0.9 * 1.0 <= early <= 1.1 * 1.0  # AVATAR_POLL_MIN_SECONDS, not the 0.5 s budget


@pytest.mark.django_db
def test_with_webhooks_on_and_no_history_polls_back_off(alice, settings):
    settings.AVATAR_POLL_MIN_SECONDS = 1.0
    settings.AVATAR_POLL_MAX_SECONDS = 15.0
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    job = make_job(alice)

    delay = cadence.poll_delay(2, attempt=_running_attempt(job, 9.0), model_name=job.model_name)

    assert 0.8 * 2.25 <= delay <= 1.2 * 2.25
    assert 0.8 * 2.25 <= cadence.poll_delay(2) <= 1.2 * 2.25  # a retry after a refused call


@pytest.mark.django_db
def test_with_history_the_first_poll_is_near_the_usual_end(alice, settings):
    settings.AVATAR_FIRST_POLL_SECONDS = 1.0
    settings.PUBLIC_BASE_URL = ""
    settings.FASHN_STATUS_RATE = "50/10"
    settings.FASHN_MAX_IN_FLIGHT = 6
    job = make_job(alice)
    _completed_attempts(job, [12.0] * 10, bracket=0.2)

    # Regular durations: within half a short step (a fortieth of 12 s) of the end.
    assert 12.0 - 0.3 <= cadence.first_poll_delay(job.model_name) <= 12.0 + 0.3


@pytest.mark.django_db
def test_too_few_samples_are_not_kept_so_the_next_job_learns_from_the_ones_stored_since(
    alice, settings
):
    # The first predictions of a burst end together: the job handed the first freed slot asks
    # before the others are stored, and the jobs after it must not keep its empty answer.
    settings.AVATAR_FIRST_POLL_SECONDS = 1.0
    settings.PUBLIC_BASE_URL = ""
    settings.FASHN_STATUS_RATE = "50/10"
    settings.FASHN_MAX_IN_FLIGHT = 6
    job = make_job(alice)
    _completed_attempts(job, [12.0] * (cadence.MIN_SAMPLES - 1), bracket=0.3)
    assert cadence.first_poll_delay(job.model_name) <= 1.0 + 1.5  # no history

    _completed_attempts(make_job(alice), [12.0], bracket=0.3)

    assert cadence.first_poll_delay(job.model_name) >= 0.9 * 12.0


@pytest.mark.django_db
def test_history_from_before_ends_were_bracketed_brings_the_first_poll_earlier(alice, settings):
    # Rows from before the end was recorded only say when the job finished: an upper bound,
    # so the first poll comes early enough to see the prediction running and bracket its end.
    settings.PUBLIC_BASE_URL = ""
    job = make_job(alice)
    _completed_attempts(job, [12.0] * 10)

    delay = cadence.first_poll_delay(job.model_name)

    assert cadence.PROBE_FRACTION * 12.0 <= delay < 0.9 * 12.0


@pytest.mark.django_db
def test_with_history_a_running_prediction_is_polled_shortly_around_its_end(alice, settings):
    settings.AVATAR_POLL_MAX_SECONDS = 15.0
    settings.PUBLIC_BASE_URL = ""
    settings.FASHN_STATUS_RATE = "50/10"
    settings.FASHN_MAX_IN_FLIGHT = 6
    job = make_job(alice)
    _completed_attempts(job, [12.0] * 10, bracket=0.3)
    running = _running_attempt(job, 11.5)

    delay = cadence.poll_delay(1, attempt=running, model_name=job.model_name)

    assert 0.6 * 0.9 <= delay <= 0.6 * 1.1  # a twentieth of 12 s, with jitter


@pytest.mark.django_db
def test_with_webhooks_on_the_first_poll_waits_past_the_usual_end(alice, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    job = make_job(alice)
    _completed_attempts(job, [12.0] * 10)

    assert cadence.first_poll_delay(job.model_name) >= 12.0 + 0.25 * 12.0
