"""The operations dashboard's figures, each from one bounded query.

Windows end at ``now``: "last 24 h" and "last 7 days". Processing times are computed in Python
over the newest ``TIMING_SAMPLE_LIMIT`` finished jobs (and attempts) of the last 7 days, which
keeps the query bounded and the percentile code the same on SQLite and PostgreSQL.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from avatar_studio import fashn
from avatar_studio.avatars.models import (
    ACTIVE_STATUSES,
    AvatarJob,
    JobStatus,
    PredictionAttempt,
    ReviewState,
)
from avatar_studio.credits import ledger

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
TIMING_SAMPLE_LIMIT = 5000
# The dashboard must not hang on a slow FASHN: the balance is a nice-to-have.
CREDITS_READ_TIMEOUT = 5.0


def percentile(values, fraction):
    """The ``fraction`` quantile (0..1) of ``values`` by linear interpolation between ranks.

    The same method as numpy's default and PostgreSQL's ``percentile_cont``. None if empty.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass(frozen=True)
class Timing:
    """Durations in seconds: how many, their median and 95th percentile."""

    count: int
    median: float | None
    p95: float | None

    @classmethod
    def of(cls, seconds):
        return cls(len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.95))


@dataclass(frozen=True)
class FailureCount:
    error_name: str
    last_day: int
    last_week: int


@dataclass(frozen=True)
class DayOutcome:
    day: date
    completed: int
    failed: int


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    # (status value, label, count), in the pipeline's order, zeros included.
    status_counts: list
    failures: list
    # Upload to stored avatar, for jobs completed in the window.
    job_time_day: Timing
    job_time_week: Timing
    # FASHN's own time per completed prediction: /v1/run accepted to outputs seen.
    prediction_time_day: Timing
    prediction_time_week: Timing
    timings_truncated: bool
    retries_day: int
    retries_week: int
    credits_day: int
    credits_week: int
    oldest_running: AvatarJob | None
    daily: list = field(default_factory=list)
    pending_review: int = 0


def status_counts(statuses=tuple(JobStatus)):
    """``(status value, label, count)`` for ``statuses``, in the pipeline's order, zeros included.

    Counting the active statuses alone reads only their rows (an index on status); counting them
    all reads every job.
    """
    jobs = AvatarJob.objects.order_by()
    if set(statuses) != set(JobStatus):
        jobs = jobs.filter(status__in=statuses)
    counts = dict(jobs.values_list("status").annotate(count=Count("pk")))
    return [(status.value, status.label, counts.get(status.value, 0)) for status in statuses]


def failures_by_error(now):
    """Failed jobs by error name, by when they failed; most frequent over 7 days first."""
    rows = (
        AvatarJob.objects.filter(status=JobStatus.FAILED, finished_at__gte=now - WEEK)
        .order_by()
        .values("error_name")
        .annotate(
            last_day=Count("pk", filter=Q(finished_at__gte=now - DAY)),
            last_week=Count("pk"),
        )
    )
    failures = [
        FailureCount(row["error_name"] or "(none)", row["last_day"], row["last_week"])
        for row in rows
    ]
    return sorted(failures, key=lambda failure: (-failure.last_week, failure.error_name))


def _durations(rows, now):
    """Split (start, end) pairs into seconds for the last day and the last week."""
    day, week = [], []
    for start, end in rows:
        seconds = (end - start).total_seconds()
        week.append(seconds)
        if end >= now - DAY:
            day.append(seconds)
    return day, week


def job_times(now):
    rows = list(
        AvatarJob.objects.filter(status=JobStatus.COMPLETED, finished_at__gte=now - WEEK)
        .order_by("-finished_at")
        .values_list("created_at", "finished_at")[:TIMING_SAMPLE_LIMIT]
    )
    return (*_durations(rows, now), len(rows) == TIMING_SAMPLE_LIMIT)


def prediction_times(now):
    rows = list(
        PredictionAttempt.objects.filter(status="completed", finished_at__gte=now - WEEK)
        .order_by("-finished_at")
        .values_list("submitted_at", "finished_at")[:TIMING_SAMPLE_LIMIT]
    )
    return (*_durations(rows, now), len(rows) == TIMING_SAMPLE_LIMIT)


def attempt_totals(now):
    """Retries (attempts after a job's first, automatic or pressed)."""
    day, week = now - DAY, now - WEEK
    retry = Q(number__gt=1)
    return PredictionAttempt.objects.filter(
        Q(submitted_at__gte=week) | Q(finished_at__gte=week)
    ).aggregate(
        retries_day=Count("pk", filter=retry & Q(submitted_at__gte=day)),
        retries_week=Count("pk", filter=retry & Q(submitted_at__gte=week)),
    )


def oldest_running():
    return (
        AvatarJob.objects.filter(status__in=ACTIVE_STATUSES)
        .select_related("owner")
        .order_by("created_at")
        .first()
    )


def waiting_for_slot_count():
    """Queued jobs that found every FASHN slot taken and wait for one to free."""
    return AvatarJob.objects.filter(status=JobStatus.QUEUED, waiting_for_slot=True).count()


def daily_outcomes(now, days=7):
    """Jobs that ended on each of the last ``days`` days (today included), oldest day first."""
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    rows = (
        AvatarJob.objects.filter(
            status__in=[JobStatus.COMPLETED, JobStatus.FAILED], finished_at__date__gte=first
        )
        .annotate(day=TruncDate("finished_at"))
        .order_by()
        .values("day")
        .annotate(
            completed=Count("pk", filter=Q(status=JobStatus.COMPLETED)),
            failed=Count("pk", filter=Q(status=JobStatus.FAILED)),
        )
    )
    by_day = {row["day"]: row for row in rows}
    outcomes = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        outcomes.append(DayOutcome(day, row.get("completed", 0), row.get("failed", 0)))
    return outcomes


def dashboard(now=None):
    now = now or timezone.now()
    job_day, job_week, jobs_truncated = job_times(now)
    prediction_day, prediction_week, predictions_truncated = prediction_times(now)
    totals = attempt_totals(now)
    # From the credits ledger, which keeps what a job cost after it is deleted.
    credits = ledger.charged_totals(now, DAY, WEEK)
    return Dashboard(
        now=now,
        status_counts=status_counts(),
        failures=failures_by_error(now),
        job_time_day=Timing.of(job_day),
        job_time_week=Timing.of(job_week),
        prediction_time_day=Timing.of(prediction_day),
        prediction_time_week=Timing.of(prediction_week),
        timings_truncated=jobs_truncated or predictions_truncated,
        retries_day=totals["retries_day"],
        retries_week=totals["retries_week"],
        credits_day=credits["day"],
        credits_week=credits["week"],
        oldest_running=oldest_running(),
        daily=daily_outcomes(now),
        pending_review=AvatarJob.objects.filter(review_state=ReviewState.PENDING).count(),
    )


# --- The FASHN account ------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """The FASHN credit balance, or why it could not be read."""

    credits: fashn.Credits | None
    problem: str = ""


def fashn_balance():
    """Ask FASHN (or the offline engine) for the credit balance: one GET /v1/credits.

    Configured like the pipeline's client, with a short read timeout of its own. Never raises:
    a dashboard must still show everything else when FASHN cannot be reached.
    """
    try:
        client = fashn.FashnClient(
            settings.FASHN_API_KEY,
            settings.FASHN_BASE_URL,
            connect_timeout=settings.FASHN_CONNECT_TIMEOUT,
            read_timeout=min(settings.FASHN_READ_TIMEOUT, CREDITS_READ_TIMEOUT),
        )
    except ValueError as error:  # no API key or a malformed base URL
        return Balance(None, f"the FASHN client is not configured: {error}")
    with client:
        try:
            return Balance(client.credits())
        except fashn.FashnError as error:
            return Balance(None, f"{type(error).__name__}: {error.message}")
