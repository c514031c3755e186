"""Scrape benchmark: what one /metrics answer costs with many jobs and ledger rows, on PostgreSQL.

    .venv/bin/python bench/metrics.py [--jobs 100000] [--requests 30]

Target: a scrape in under 100 ms of server time with 100,000 jobs (and as many ledger rows), with
the same number of queries as with 10 jobs. Prometheus scrapes every 15 to 60 s, so this is the
whole load the endpoint adds.

Runs against its own database, ``avatar_studio_bench_metrics`` on 127.0.0.1:5432 (created if
missing, migrated, its job and ledger tables emptied at the start), never the developers' ones;
Redis database 14 under its own key prefix, where it leaves some pipeline counters to read. Jobs
are made with ``bulk_create`` (no task is sent): 80 % completed, 15 % failed, 5 % queued or
running, each with one attempt and, when completed, a charged ledger row. Requests go through
``django.test.Client`` (server time, no socket); each is timed after two warm-up requests.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from machine import cpu_model, ensure_bench_database, load_average  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "avatar_studio_bench_metrics"
TOKEN = "bench-metrics-token-0123456789abcdef0123"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "avatar_studio.settings",
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "true"),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "REDIS_KEY_PREFIX": "avatar-studio-bench-metrics",
        "CELERY_QUEUE": "avatar-studio-bench-metrics",
        "METRICS_TOKEN": TOKEN,
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
)
TARGET_MS = 100


ensure_bench_database(DB_NAME)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionAttempt  # noqa: E402
from avatar_studio.credits.models import CreditState, CreditUse  # noqa: E402
from avatar_studio.ops import counters  # noqa: E402


def reset():
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE avatars_avatarresult, avatars_predictionattempt, avatars_sharelink, "
            "avatars_avatarjob, credits_credituse CASCADE"
        )
    user_model = get_user_model()
    user_model.objects.filter(username="bench").delete()
    client = counters.client()
    for key in client.scan_iter(f"{os.environ['REDIS_KEY_PREFIX']}:*"):
        client.delete(key)
    return user_model.objects.create_user("bench", "bench@example.com", "bench-password")


def add_jobs(user, count, start, rng):
    now = timezone.now()
    for batch_start in range(start, start + count, 5000):
        jobs, attempts, ledger = [], [], []
        for i in range(batch_start, min(start + count, batch_start + 5000)):
            # created_at itself is auto_now_add: every job is created "now" in the database.
            created = now - timedelta(days=30) + timedelta(seconds=i % 2_000_000)
            roll = rng.random()
            status = (
                JobStatus.COMPLETED
                if roll < 0.80
                else JobStatus.FAILED
                if roll < 0.95
                else rng.choice([JobStatus.QUEUED, JobStatus.PROCESSING])
            )
            finished = created + timedelta(seconds=30) if roll < 0.95 else None
            job = AvatarJob(
                id=uuid.uuid4(),
                owner=user,
                status=status,
                deadline_at=created + timedelta(minutes=30),
                submitted_at=created + timedelta(seconds=2),
                finished_at=finished,
                waiting_for_slot=status == JobStatus.QUEUED,
                error_name="PoseError" if status == JobStatus.FAILED else "",
            )
            jobs.append(job)
            attempts.append(
                PredictionAttempt(
                    job=job,
                    number=1,
                    prediction_id=f"bench-{job.id.hex}",
                    status=str(status) if finished else "processing",
                    submitted_at=created + timedelta(seconds=2),
                    finished_at=finished,
                )
            )
            if status == JobStatus.COMPLETED:
                ledger.append(
                    CreditUse(
                        owner=user,
                        job_id=job.id,
                        model_name=job.model_name,
                        estimated=2,
                        charged=2,
                        state=CreditState.CHARGED,
                        created_at=created,
                        settled_at=finished,
                    )
                )
        AvatarJob.objects.bulk_create(jobs)
        PredictionAttempt.objects.bulk_create(attempts)
        CreditUse.objects.bulk_create(ledger)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def record_some_events(rng):
    """Pipeline counters as a busy day leaves them: every family has series to read."""
    observations = []
    for _ in range(2000):
        model = rng.choice(["face-to-model", "tryon-v1.6", "tryon-max"])
        observations.append((counters.QUEUE_WAIT, (model,), rng.uniform(0, 900)))
        observations.append((counters.PROCESSING_TIME, (model, "completed"), rng.uniform(5, 200)))
        observations.append((counters.PREDICTIONS, (model,), None))
        name = rng.choice(sorted(counters.ERROR_NAMES))
        observations.append((counters.RUNTIME_ERRORS, (model, name), None))
        observations.append((counters.JOB_FAILURES, (name,), None))
    counters._write(observations)


def measure(client, requests):
    for _ in range(2):
        client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    times.sort()
    p90 = times[int(len(times) * 0.9) - 1]
    return statistics.median(times), p90, len(queries.captured_queries), len(response.content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    user = reset()
    record_some_events(rng)
    client = Client()
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; PostgreSQL on loopback")
    print(f"load average at start: {load_average()}")
    print(f"{'jobs':>8} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'bytes':>7}")
    rows = []
    add_jobs(user, 10, 0, rng)
    rows.append((10, *measure(client, args.requests)))
    add_jobs(user, args.jobs - 10, 10, rng)
    rows.append((args.jobs, *measure(client, args.requests)))
    for jobs, median, p90, queries, size in rows:
        print(f"{jobs:>8} {median:>10.1f} {p90:>8.1f} {queries:>8} {size:>7}")
    print(f"load average at end: {load_average()}")
    (_, _, _, few, _), (_, median, _, many, _) = rows
    ok = median < TARGET_MS and few == many
    print(f"target: under {TARGET_MS} ms with {args.jobs} jobs, constant queries: ", end="")
    print("met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
