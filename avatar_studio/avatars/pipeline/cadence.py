"""When to poll a running FASHN prediction: around its expected end, learnt from recent ones.

A prediction holds one of the account's in-flight slots until the poll that sees it ended, so
every second between its end and that poll is a second of the slot wasted.
Polling from the start with a backoff (1, 2.5, 4.75 s ...) overshoots the end by up to half the
current step and spends status calls on a prediction that cannot be done yet. Instead:

- **Learn**: when the model's recently completed predictions really ended (the last
  ``SAMPLE_SIZE`` within ``LOOKBACK``, cached in Django's cache for ``CACHE_SECONDS`` or until
  the next completion). Each one
  ended between its last "still running" answer and its first "ended" one (``Sample``): the
  middle of that bracket, not when we happened to see the end, so our own detection delay is not
  learnt as the prediction's. A prediction whose first poll already found it ended only says it
  took at most that long: while polls bracket most ends, it is learnt as ended half a typical
  bracket before. Fewer than ``MIN_SAMPLES``: no plan (see "No history" below).
- **Plan**: the first poll one short step before the usual end, or as far before it as the
  median may be off when brackets are wide (at least ``FIRST_POLL_FRACTION`` of it); then
  short polls every ``step`` until the 90th percentile; then a backoff (each wait half the time
  already overdue, at least ``step``, at most ``AVATAR_POLL_MAX_SECONDS``). When the model's
  predictions end within a step of the median (as far as their brackets tell), the end is known
  that well: the first poll is spread across it, half a step either side, then half steps, so
  that about half of them are seen ended by their first poll (one status call) while the other
  half bracket the end, which keeps the learning honest. When most recent first polls came too
  late to see the prediction running (the estimate is too high, or a busy queue ran the polls
  late), the first poll comes earlier (``PROBE_FRACTION``) until the brackets are back:
  otherwise a too-high estimate would only come down a little per round.
- **Budget**: the step is never shorter than the account's status rate allows when every
  in-flight slot is busy: a typical job (ending at the median) may spend ``BUDGET_SHARE`` ×
  (status calls per second / ``FASHN_MAX_IN_FLIGHT``) × median calls, one of which is the
  first poll.
  ``limits.status_rate`` still guards every call; this only keeps us from leaning on it.
- **No history** (a model's first predictions, or none in ``LOOKBACK``): the first poll at
  ``AVATAR_FIRST_POLL_SECONDS`` (spread over one budget interval), then as often as the same
  budget allows (``unlearnt_delay``), each wait growing to ``UNLEARNT_AGE_FRACTION`` of the
  prediction's age once that is longer: the end is seen within an interval (or that share of
  its age), and its bracket is narrow enough for the next round to aim well. A backoff from
  ``AVATAR_POLL_MIN_SECONDS`` would see a 6 s prediction 2 s late and teach the next rounds
  from brackets 3 s wide.
- **Webhooks on** (``PUBLIC_BASE_URL`` set): FASHN tells us when a prediction ends, so polls are
  only the safety net: the first at the 90th percentile plus a quarter of the median, then the
  backoff, with no short polls (with no history too).

No wait is longer than ``AVATAR_POLL_MAX_SECONDS + AVATAR_STEP_LEASE_SECONDS / 2``, so a slot's
lease (``steps.slot_lease_seconds``, refreshed by each poll) always outlives the gap.

Every other wait of the pipeline lives here too, so that all of its timing reads in one place:
the retry backoff and the wait after a refused request. Each is spread by ``jittered`` so that
many jobs never fire at once.
"""

import math
import random
import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

SAMPLE_SIZE = 40
MIN_SAMPLES = 5
RECENT_BRACKETS = 2 * MIN_SAMPLES
LOOKBACK = timedelta(minutes=30)
RECENT_ATTEMPTS = 5000  # how far back (by id) to look for completed attempts: bounds the query
CACHE_SECONDS = 10.0

FIRST_POLL_FRACTION = 0.9
PROBE_FRACTION = 0.7
# More first polls than this finding the prediction ended: aim earlier. Above a half, which is
# what spreading the first poll across a well-known end gives by design.
LATE_SHARE = 0.9
STEP_FRACTION = 0.05
MIN_STEP_SECONDS = 0.2
BUDGET_SHARE = 0.8
WEBHOOK_SAFETY_FRACTION = 0.25
BACKOFF_FRACTION = 0.5  # an overdue prediction waits half the time it is already overdue
UNLEARNT_AGE_FRACTION = 0.25  # with no history, a wait grows to this share of the age
MIN_WAIT_SECONDS = 0.05


@dataclass(frozen=True)
class Sample:
    """When one completed prediction ended, in seconds after its submission, as far as its status
    calls tell: after ``running_at`` (when the last call that found it still running was sent;
    None if the first call already found it ended) and by ``ended_by`` (when the first call that
    found it ended answered)."""

    ended_by: float
    running_at: float | None = None

    @property
    def bracketed(self):
        return self.running_at is not None and 0 <= self.running_at <= self.ended_by

    @property
    def duration(self):
        """The best guess: the bracket's middle, or its end when there is no bracket (``learn``
        may move that back by half a typical bracket)."""
        if self.bracketed:
            return (self.running_at + self.ended_by) / 2
        return self.ended_by

    def distance_from(self, seconds):
        """How far from ``seconds`` the end was at least: 0 when the bracket (or, with none, the
        time before ``ended_by``) holds it."""
        earliest = self.running_at if self.bracketed else seconds
        return max(0.0, earliest - seconds, seconds - self.ended_by)


@dataclass(frozen=True)
class Expected:
    """What recent predictions of a model took, from submission to their end (seconds)."""

    median: float
    high: float  # 90th percentile
    samples: int
    late_share: float = 0.0  # of the samples, those whose first poll already found them ended
    uncertainty: float = 0.0  # half the width of a typical bracket (median): how far off the
    # median may be when brackets are wide (polls seconds apart, before there was a plan)
    spread: float = 0.0  # how far from the median the ends lay, as far as their brackets tell
    # (90th percentile): a wide bracket is not a far end
    median_error: float = 0.0  # how far off the median itself may be: the middles of brackets
    # polled at different phases err either way, so their median errs less than one of them


@dataclass(frozen=True)
class Plan:
    """A prediction's poll schedule, in seconds of its age (time since submission)."""

    first: float  # the first poll, at the earliest
    spread: float  # how much later than ``first`` it may come
    step: float  # then every step ...
    until: float  # ... up to this age, then backing off
    max_backoff: float  # the longest wait once overdue
    max_wait: float  # no wait is ever longer (the slot lease must outlive it)


def learn(samples):
    """Expected durations from a list of ``Sample``; None when there are too few to trust."""
    samples = [sample for sample in samples if sample.ended_by >= 0]
    if len(samples) < MIN_SAMPLES:
        return None
    bracketed = [sample for sample in samples if sample.bracketed]
    # Samples come newest first: a typical bracket is today's, so once polls are aimed, the
    # cold start's wide brackets stop counting.
    half_widths = [(sample.ended_by - sample.running_at) / 2 for sample in bracketed]
    recent_half_widths = half_widths[:RECENT_BRACKETS]
    uncertainty = statistics.median(recent_half_widths) if half_widths else 0.0
    # While polls bracket ends (enough of them to know a typical bracket), a first poll that
    # found the prediction ended came, on average, as long after its end as the middle of a
    # bracket is from its ends: learnt at its end, the median would creep up. Not so when
    # webhooks bring the poll within moments of the end: then the few brackets are the cold
    # start's, seconds wide.
    shift = uncertainty if len(bracketed) >= MIN_SAMPLES else 0.0
    durations = sorted(
        sample.duration if sample.bracketed else sample.ended_by - shift for sample in samples
    )
    median = statistics.median(durations)
    distances = sorted(sample.distance_from(median) for sample in samples)
    return Expected(
        median=median,
        high=_ninetieth(durations),
        samples=len(samples),
        late_share=1 - len(bracketed) / len(samples),
        uncertainty=uncertainty,
        spread=_ninetieth(distances),
        median_error=uncertainty / math.sqrt(len(bracketed)) if bracketed else 0.0,
    )


def _ninetieth(ordered):
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def make_plan(
    expected,
    *,
    in_flight_limit,
    status_per_second,
    webhooks=False,
    max_backoff=15.0,
    max_wait=60.0,
):
    """The schedule for a prediction of a model that usually takes ``expected``."""
    median = max(expected.median, 0.0)
    high = max(expected.high, median)
    # Status calls one job may spend when every slot is busy, at most.
    allowed = median / budget_interval(in_flight_limit, status_per_second)
    if webhooks:
        first = high + WEBHOOK_SAFETY_FRACTION * median
        step = max(MIN_STEP_SECONDS, STEP_FRACTION * median)
        step = min(step, max_backoff)
        return Plan(first, step / 2, step, first, max_backoff, max_wait)
    late = expected.late_share > LATE_SHARE
    earliest = (PROBE_FRACTION if late else FIRST_POLL_FRACTION) * median
    window = high - earliest  # where completions usually fall, after the first poll
    # A typical job makes the first poll and at most (median - earliest) / step short ones:
    # within the allowance on average (the status window is a sliding average too). With no
    # room for short polls, one more poll covers the window.
    budget_step = (median - earliest) / (allowed - 1) if allowed > 1 else window
    step = min(max(MIN_STEP_SECONDS, STEP_FRACTION * median, budget_step), max_backoff)
    if late:
        return Plan(earliest, step / 2, step, high, max_backoff, max_wait)
    half = max(MIN_STEP_SECONDS, step / 2)
    if expected.spread <= step and expected.uncertainty <= half and allowed >= 2:
        # The end is known to within a step: the first poll anywhere across it, half a step
        # either side, then half steps (half the jobs make one call, most others two).
        return Plan(max(earliest, median - half), 2 * half, half, high, max_backoff, max_wait)
    # One step before the usual end (or as far before it as the median may be off): the next
    # poll then lands within a step after it. Earlier would only spend status calls on a
    # prediction that cannot have ended yet.
    first = max(earliest, median - max(step, expected.median_error))
    return Plan(first, step / 2, step, high, max_backoff, max_wait)


def budget_interval(in_flight_limit, status_per_second):
    """Seconds between two polls of one prediction that keep every slot's polls, together,
    within ``BUDGET_SHARE`` of the account's status rate."""
    return max(1, in_flight_limit) / (BUDGET_SHARE * status_per_second)


def unlearnt_first_delay(first, *, in_flight_limit, status_per_second):
    """The first poll of a prediction whose model has no history: ``first`` spread later by
    up to one budget interval. Predictions started together are then polled at different
    phases, so the middles of their brackets average to the true end instead of sharing one
    bias."""
    return first + random.uniform(0.0, budget_interval(in_flight_limit, status_per_second))


def unlearnt_delay(age, *, in_flight_limit, status_per_second, min_wait, max_wait, jitter=0.1):
    """The wait before the next poll of a prediction ``age`` seconds old whose model has no
    history: one budget interval (at least ``min_wait``) while the prediction is young, then a
    share of its age, so that a long one costs a few calls per doubling of its age."""
    interval = budget_interval(in_flight_limit, status_per_second)
    return jittered(min(max_wait, max(min_wait, interval, UNLEARNT_AGE_FRACTION * age)), jitter)


def first_delay(plan):
    """The wait before a prediction's first poll: the plan's, spread later by up to its
    ``spread``, so that predictions started together are not all polled in the same instant."""
    return _bounded(plan, plan.first + random.uniform(0.0, plan.spread))


def next_delay(plan, age, jitter=0.1):
    """The wait before the next poll of a prediction ``age`` seconds old that is still running."""
    if age < plan.first:  # polled early (a retry after an error): go back to the plan
        wait = plan.first - age
    elif age < plan.until:
        wait = plan.step
    else:
        overdue = age - plan.until
        wait = min(plan.max_backoff, max(plan.step, BACKOFF_FRACTION * overdue))
    return _bounded(plan, jittered(wait, jitter))


def _bounded(plan, wait):
    return min(plan.max_wait, max(MIN_WAIT_SECONDS, wait))


def jittered(seconds, spread=0.2):
    """Spread retries and polls so that many jobs never fire at the same instant."""
    return seconds * random.uniform(1 - spread, 1 + spread)


# --- Reading the recent past, with the settings -------------------------------------------------


def _history_key(model_name):
    return f"avatars:cadence:v2:{settings.FASHN_BASE_URL}:{model_name}"


def expected_for(model_name):
    """``Expected`` for ``model_name`` from recent completed attempts (cached briefly), or None."""
    key = _history_key(model_name)
    cached = cache.get(key)
    if cached is None:
        cached = {"samples": [(s.ended_by, s.running_at) for s in recent_samples(model_name)]}
        # Too few to learn from is not kept: the first predictions of a burst end together, and
        # the jobs handed their slots must not be polled on the fixed schedule for the next
        # CACHE_SECONDS because the first of them asked a moment before the others were stored.
        if len(cached["samples"]) >= MIN_SAMPLES:
            cache.set(key, cached, CACHE_SECONDS)
    return learn([Sample(ended_by, running_at) for ended_by, running_at in cached["samples"]])


def forget_history(model_name):
    """A prediction of ``model_name`` was just recorded completed: the next plan reads it.

    While the cadence learns (a cold start, brackets still seconds wide), each round of
    predictions aims better than the last only if it plans from the round just ended, not from
    the cache of one before it. Reading the samples again costs one small query per completion.
    """
    cache.delete(_history_key(model_name))


def recent_samples(model_name, now=None):
    """``Sample`` of each of the model's last completed attempts."""
    from ..models import PredictionAttempt

    now = now or timezone.now()
    newest = PredictionAttempt.objects.order_by("-pk").values_list("pk", flat=True).first()
    if newest is None:
        return []
    rows = (
        PredictionAttempt.objects.filter(
            pk__gt=newest - RECENT_ATTEMPTS,
            job__model_name=model_name,
            status="completed",
            finished_at__gte=now - LOOKBACK,
        )
        .order_by("-pk")
        .values_list("submitted_at", "running_seen_at", "end_seen_at", "finished_at")[:SAMPLE_SIZE]
    )
    return [
        Sample(
            # Attempts completed before the end was recorded: when the job finished.
            ended_by=_seconds(submitted, end_seen or finished),
            running_at=_seconds(submitted, running_seen) if running_seen else None,
        )
        for submitted, running_seen, end_seen, finished in rows
    ]


def _seconds(start, end):
    return (end - start).total_seconds()


def _account():
    """The configured FASHN account's limits, as the plans take them."""
    from .limits import parse_rate

    calls, window = parse_rate(settings.FASHN_STATUS_RATE)
    return {"in_flight_limit": settings.FASHN_MAX_IN_FLIGHT, "status_per_second": calls / window}


def plan_for(model_name):
    """The configured account's poll plan for ``model_name``, or None until it has history."""
    expected = expected_for(model_name)
    if expected is None:
        return None
    return make_plan(
        expected,
        **_account(),
        webhooks=bool(settings.PUBLIC_BASE_URL),
        max_backoff=settings.AVATAR_POLL_MAX_SECONDS,
        max_wait=settings.AVATAR_POLL_MAX_SECONDS + settings.AVATAR_STEP_LEASE_SECONDS / 2,
    )


def age_of(attempt, now=None):
    return ((now or timezone.now()) - attempt.submitted_at).total_seconds()


# --- The waits of the pipeline's steps ----------------------------------------------------------


def first_poll_delay(model_name=None):
    """Wait before the first status call: near the expected end once the model has history."""
    plan = plan_for(model_name) if model_name else None
    if plan is not None:
        return first_delay(plan)
    if model_name and not settings.PUBLIC_BASE_URL:
        return unlearnt_first_delay(settings.AVATAR_FIRST_POLL_SECONDS, **_account())
    return jittered(settings.AVATAR_FIRST_POLL_SECONDS, spread=0.1)


def poll_delay(poll_count, *, attempt=None, model_name=None):
    """Wait before the next status call of a running prediction.

    Around its expected end when recent predictions of ``model_name`` tell us when that is;
    with no history, as often as the status budget allows (``unlearnt_delay``). With webhooks on,
    or for a retry after a refused call (no ``attempt``), short at first, then backing off to
    the cap.
    """
    if attempt is not None and model_name:
        plan = plan_for(model_name)
        if plan is not None:
            return next_delay(plan, age_of(attempt))
        if not settings.PUBLIC_BASE_URL:
            return unlearnt_delay(
                age_of(attempt),
                **_account(),
                min_wait=settings.AVATAR_POLL_MIN_SECONDS,
                max_wait=settings.AVATAR_POLL_MAX_SECONDS,
            )
    base = settings.AVATAR_POLL_MIN_SECONDS * 1.5**poll_count
    return jittered(min(base, settings.AVATAR_POLL_MAX_SECONDS))


def retry_delay(attempt_number):
    """Exponential backoff with jitter before attempt ``attempt_number + 1``."""
    base = settings.AVATAR_RETRY_BASE_SECONDS * 2 ** max(0, attempt_number - 1)
    return jittered(min(base, settings.AVATAR_RETRY_MAX_SECONDS))


def after_refusal(error, default=None):
    """How long to wait after FASHN refused a request for now: its Retry-After, or our own."""
    if default is None:
        default = settings.AVATAR_TRANSIENT_RETRY_SECONDS
    retry_after = getattr(error, "retry_after", None)
    return jittered(max(retry_after or 0.0, default))


def after_rate_limit(wait):
    """Wait for a full local rate window to free up, a little past the moment it does."""
    return jittered(wait, spread=0.1) + 0.05
