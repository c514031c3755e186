"""What ``/metrics`` answers, in Prometheus' text format: read at scrape time from shared stores.

Nothing is counted in a process's memory, so any web process of any host answers the same
complete figures, whatever number of gunicorn workers, Celery workers and hosts there are:

- gauges from the database and Redis as they are now: jobs in each active status (the
  dashboard's ``figures.status_counts``), jobs waiting for a FASHN slot, the oldest active job's
  age, slots in use (``limits.InFlightSlots.in_use``) and the account's limit;
- counters and histograms of pipeline events from Redis (``counters``): queue wait, FASHN
  processing time, predictions, retries, runtime errors by name, credits used, job failures by
  name.

A scrape costs three queries on the active jobs' rows (indexed by status) and two Redis round
trips, whatever the number of finished jobs: finished jobs are what the counters count. If Redis
cannot be read, the database figures are still answered and ``avatar_studio_metrics_redis_up``
says 0.
"""

import logging

import redis
from django.conf import settings
from django.utils import timezone
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from avatar_studio.avatars.models import ACTIVE_STATUSES
from avatar_studio.avatars.pipeline.limits import fashn_limits

from . import counters, figures

logger = logging.getLogger(__name__)


class StudioCollector:
    """A prometheus-client collector: every family is read afresh on each scrape."""

    def collect(self):
        yield from self._database_families()
        try:
            slots_in_use = fashn_limits().in_flight.in_use()
            events = counters.read()
        except redis.RedisError as error:
            logger.warning("metrics: Redis unreachable: %r", error)
            yield GaugeMetricFamily(
                "avatar_studio_metrics_redis_up",
                "1 if the slots and pipeline counters in Redis could be read for this scrape.",
                value=0,
            )
            return
        yield GaugeMetricFamily(
            "avatar_studio_metrics_redis_up",
            "1 if the slots and pipeline counters in Redis could be read for this scrape.",
            value=1,
        )
        yield GaugeMetricFamily(
            "avatar_studio_fashn_slots_in_use",
            "FASHN predictions in flight now (slots held in the shared limiter).",
            value=slots_in_use,
        )
        yield from _event_families(events)

    def _database_families(self):
        jobs = GaugeMetricFamily(
            "avatar_studio_jobs",
            "Jobs (avatars and try-ons) not yet completed or failed, by status, now.",
            labels=["status"],
        )
        for value, _label, count in figures.status_counts(ACTIVE_STATUSES):
            jobs.add_metric([value], count)
        yield jobs
        yield GaugeMetricFamily(
            "avatar_studio_jobs_waiting_for_slot",
            "Queued jobs waiting for a FASHN slot to free.",
            value=figures.waiting_for_slot_count(),
        )
        oldest = figures.oldest_running()
        yield GaugeMetricFamily(
            "avatar_studio_oldest_active_job_age_seconds",
            "Age of the oldest job not yet completed or failed (0 when there is none).",
            value=(timezone.now() - oldest.created_at).total_seconds() if oldest else 0,
        )
        yield GaugeMetricFamily(
            "avatar_studio_fashn_slots_limit",
            "Predictions the FASHN account may have in flight (FASHN_MAX_IN_FLIGHT).",
            value=settings.FASHN_MAX_IN_FLIGHT,
        )


def _event_families(events):
    for family, values in events.items():
        if family.is_histogram:
            metric = HistogramMetricFamily(
                family.name, family.documentation, labels=list(family.labels)
            )
            for label_values, histogram in sorted(values.items()):
                metric.add_metric(list(label_values), histogram.buckets, histogram.sum)
        else:
            metric = CounterMetricFamily(
                family.name, family.documentation, labels=list(family.labels)
            )
            for label_values, count in sorted(values.items()):
                metric.add_metric(list(label_values), count)
        yield metric


def registry():
    """A registry holding our collector alone: no per-process figures (a process's CPU or
    memory would differ from one web process to the next)."""
    collected = CollectorRegistry()
    collected.register(StudioCollector())
    return collected
