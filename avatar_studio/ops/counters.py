"""Pipeline counters and histograms that every process adds to, kept in Redis.

Web processes, Celery workers and hosts all write to the same Redis hashes, so ``/metrics``
answers the same complete totals from any web process: no ``PROMETHEUS_MULTIPROC_DIR``, no
per-host exporter, nothing held in a process's memory.

Why not derive these from rows at scrape time, as the gauges are: jobs and their attempts are
deleted (an avatar, an account), and a counter that goes down is read by Prometheus as a reset,
so ``rate()`` would jump by the whole total on every deletion. A Redis flush is a true reset,
which Prometheus handles. Nor are the credits summed from the ledger (whose rows do outlive
their jobs): that sum reads every row ever charged on each scrape, while a counter costs the same
with a thousand jobs or ten million. The ledger stays the record of what each job cost.

Each observation is one atomic MULTI of increments, sent after the recording transaction
commits (a rolled-back transition counts nothing). A metrics write never breaks the pipeline: if
Redis cannot be reached the observation is dropped and logged.
"""

import json
import logging
import math
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from django.db import transaction
from prometheus_client.utils import floatToGoString

from avatar_studio import fashn
from avatar_studio.avatars.pipeline.failures import KNOWN_ERROR_NAMES

logger = logging.getLogger(__name__)

# Label values outside these sets are counted as "other", so an unexpected name from FASHN can
# never create an unbounded number of series.
ERROR_NAMES = KNOWN_ERROR_NAMES | {fashn.UNKNOWN_ERROR}
OTHER = "other"
MODELS = (fashn.FACE_TO_MODEL, fashn.TRYON, fashn.TRYON_MAX)
OUTCOMES = ("completed", "failed")
# The names a prediction can fail with: FASHN's runtime errors and its failed statuses.
RUNTIME_ERROR_LABELS = sorted(
    {*fashn.RUNTIME_ERROR_NAMES, fashn.UNKNOWN_ERROR, "canceled", "time_out", OTHER}
)


@dataclass(frozen=True)
class Family:
    """One metric family as Prometheus sees it, and the Redis hash that holds its values."""

    name: str
    documentation: str
    labels: tuple
    buckets: tuple = ()  # upper bounds in seconds; empty for a counter
    # Label values answered (as 0) before anything is counted: a series that appears only with
    # its first count hides that count from Prometheus' increase() and rate().
    seeds: tuple = ()

    @property
    def is_histogram(self):
        return bool(self.buckets)


# Queue wait: from the job's creation to FASHN accepting its first prediction. Slots free every
# T / 6 seconds (T about 20 to 120 s), so waits from seconds to an hour are all plausible.
QUEUE_WAIT = Family(
    "avatar_studio_queue_wait_seconds",
    "From a job's creation to FASHN accepting its first prediction (/v1/run answered).",
    ("model",),
    (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
    tuple((model,) for model in MODELS),
)
# FASHN processing: from /v1/run accepted to the prediction's end as we saw it (poll or webhook).
PROCESSING_TIME = Family(
    "avatar_studio_fashn_processing_seconds",
    "From /v1/run accepted to the prediction's end as seen by the pipeline, by outcome.",
    ("model", "outcome"),
    (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600),
    tuple((model, outcome) for model in MODELS for outcome in OUTCOMES),
)
PREDICTIONS = Family(
    "avatar_studio_fashn_predictions",
    "Predictions FASHN accepted (/v1/run answered with an id), first attempts and retries.",
    ("model",),
    seeds=tuple((model,) for model in MODELS),
)
RETRIES = Family(
    "avatar_studio_fashn_retries",
    "Predictions sent again for a job that already had one (automatic retries and Retry).",
    ("model",),
    seeds=tuple((model,) for model in MODELS),
)
RUNTIME_ERRORS = Family(
    "avatar_studio_fashn_runtime_errors",
    "Predictions that ended without an image, by FASHN's error name (or canceled, time_out).",
    ("model", "name"),
    seeds=tuple((model, name) for model in MODELS for name in RUNTIME_ERROR_LABELS),
)
CREDITS_USED = Family(
    "avatar_studio_fashn_credits_used",
    "Credits FASHN reported (x-fashn-credits-used) for completed predictions.",
    ("model",),
    seeds=tuple((model,) for model in MODELS),
)
JOB_FAILURES = Family(
    "avatar_studio_job_failures",
    "Jobs that ended failed, by the error name their owner was shown (FASHN's or our own).",
    ("name",),
    seeds=tuple((name,) for name in sorted({*ERROR_NAMES, OTHER})),
)

FAMILIES = (
    QUEUE_WAIT,
    PROCESSING_TIME,
    PREDICTIONS,
    RETRIES,
    RUNTIME_ERRORS,
    CREDITS_USED,
    JOB_FAILURES,
)


def error_label(name):
    return name if name in ERROR_NAMES else OTHER


def _field(label_values, part):
    # JSON keeps label values apart whatever characters they hold.
    return json.dumps([*label_values, part])


def _bound_text(bound):
    return "+Inf" if bound == math.inf else str(bound)


def _key(family):
    return f"{settings.REDIS_KEY_PREFIX}:metrics:{family.name}"


@cache
def _redis_client(url):
    # Short timeouts: a scrape or a pipeline step must not hang on an unreachable Redis.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def client():
    return _redis_client(settings.REDIS_URL)


# --- Writing ----------------------------------------------------------------------------------


def _increments(family, label_values, value=None):
    """The (field, amount) increments of one observation: a histogram's bucket, sum and count,
    or a counter's amount (``value``, 1 when None)."""
    label_values = tuple(str(label) for label in label_values)
    if not family.is_histogram:
        return [(_field(label_values, "count"), 1 if value is None else int(value))]
    bucket = next((bound for bound in family.buckets if value <= bound), math.inf)
    return [
        (_field(label_values, f"le={_bound_text(bucket)}"), 1),
        (_field(label_values, "count"), 1),
        (_field(label_values, "sum"), float(value)),
    ]


def _write(observations):
    """Add ``(family, label values, value)`` observations to Redis in one atomic MULTI."""
    try:
        pipe = client().pipeline(transaction=True)
        for family, label_values, value in observations:
            for field, amount in _increments(family, label_values, value):
                if isinstance(amount, float):
                    pipe.hincrbyfloat(_key(family), field, amount)
                else:
                    pipe.hincrby(_key(family), field, amount)
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("metrics not recorded, Redis unreachable: %r", error)


def record(*observations):
    """Count ``(family, label values, value)`` observations once the transaction commits."""
    observations = list(observations)
    transaction.on_commit(lambda: _write(observations), robust=True)


def prediction_submitted(model_name, number, queue_wait_seconds=None):
    """FASHN accepted attempt ``number`` of a job; the first carries the job's queue wait."""
    observations = [(PREDICTIONS, (model_name,), None)]
    if number > 1:
        observations.append((RETRIES, (model_name,), None))
    if queue_wait_seconds is not None:
        observations.append((QUEUE_WAIT, (model_name,), max(0.0, queue_wait_seconds)))
    record(*observations)


def prediction_completed(model_name, seconds, credits_used=None):
    observations = [(PROCESSING_TIME, (model_name, "completed"), max(0.0, seconds))]
    if credits_used:
        observations.append((CREDITS_USED, (model_name,), credits_used))
    record(*observations)


def prediction_failed(model_name, error_name, seconds):
    record(
        (PROCESSING_TIME, (model_name, "failed"), max(0.0, seconds)),
        (RUNTIME_ERRORS, (model_name, error_label(error_name)), None),
    )


def job_failed(error_name):
    record((JOB_FAILURES, (error_label(error_name),), None))


# --- Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistogramValue:
    # Cumulative (upper bound as Prometheus writes it, count) pairs, ending with "+Inf".
    buckets: list
    sum: float


def read():
    """Every family's values: ``{family: {label values: count or HistogramValue}}``.

    One round trip; each family is one hash, read whole by one HGETALL, so a histogram's
    buckets, sum and count always agree. Raises ``redis.RedisError`` when Redis is unreachable.
    """
    pipe = client().pipeline(transaction=False)
    for family in FAMILIES:
        pipe.hgetall(_key(family))
    return {
        family: _values(family, raw) for family, raw in zip(FAMILIES, pipe.execute(), strict=True)
    }


def _values(family, raw):
    parts = {labels: {} for labels in family.seeds}
    for field, amount in raw.items():
        *label_values, part = json.loads(field)
        parts.setdefault(tuple(label_values), {})[part] = float(amount)
    if not family.is_histogram:
        return {labels: found.get("count", 0.0) for labels, found in parts.items()}
    values = {}
    bounds = [*family.buckets, math.inf]
    for labels, found in parts.items():
        running, buckets = 0.0, []
        for bound in bounds:
            running += found.get(f"le={_bound_text(bound)}", 0.0)
            buckets.append((floatToGoString(bound), running))
        values[labels] = HistogramValue(buckets, found.get("sum", 0.0))
    return values
