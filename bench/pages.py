"""Page benchmark: gallery and status pages with 10,000 jobs on PostgreSQL.

    .venv/bin/python bench/pages.py [--jobs 10000] [--requests 50] [--profile]

Target: the gallery and the status page render in under 50 ms of server time with 10,000 jobs
in the database (PostgreSQL), with a constant number of queries; the status update endpoint
under 10 ms.

Runs against its own database, ``avatar_studio_bench`` on 127.0.0.1:5432 (created if missing,
migrated, its job tables emptied at the start), never the developers' ones; Redis database 14
(nothing here should touch Redis: jobs are made with ``bulk_create``, so no task is sent); media
in a temporary directory (result rows carry file names only: no page opens the files).

One user owns all the jobs: 80 % completed (one result row each), 15 % failed, 5 % in progress,
created over 30 days, newest first as the gallery shows them. Requests go through
``django.test.Client`` with ``force_login`` (session in the database, as in production), so the
time is Django's whole request path (middleware, session, auth, view, template) without a socket:
server time. Each URL is asked ``--requests`` times after two warm-up requests; the table shows
the median and 90th percentile and the number of queries of one request (CaptureQueriesContext),
first with 10 jobs in the database and then with ``--jobs``.

``--profile`` adds, for every URL over its target, the ten most expensive functions (cProfile,
cumulative) of 20 requests and the slowest SQL statement with its EXPLAIN ANALYZE.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from machine import BENCH_DB_NAME, cpu_model, ensure_bench_database  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = BENCH_DB_NAME
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
_media = tempfile.TemporaryDirectory(prefix="bench-pages-media-")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "avatar_studio.settings",
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "true"),
        "DATABASE_URL": DB_URL,
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "REDIS_KEY_PREFIX": "avatar-studio-bench",
        "CELERY_QUEUE": "avatar-studio-bench",
        "MEDIA_ROOT": _media.name,
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
)

GALLERY_MS = 50
STATUS_PAGE_MS = 50
STATUS_JSON_MS = 10


ensure_bench_database()

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from avatar_studio.avatars.models import (  # noqa: E402
    AvatarJob,
    AvatarResult,
    JobStatus,
    PredictionAttempt,
)

User = get_user_model()


# ---------------------------------------------------------------------------- data


def reset() -> User:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE avatars_avatarresult, avatars_predictionattempt, avatars_sharelink, "
            "avatars_avatarjob CASCADE"
        )
    User.objects.filter(username="bench").delete()
    return User.objects.create_user("bench", "bench@example.com", "bench-password")


def add_jobs(user, count: int, start: int, rng: random.Random) -> None:
    """``count`` more jobs, the newest made last, in batches of 2,000."""
    now = timezone.now()
    for batch_start in range(start, start + count, 2000):
        jobs, attempts, results = [], [], []
        for i in range(batch_start, min(start + count, batch_start + 2000)):
            created = now - timedelta(days=30) + timedelta(seconds=i * 30 * 86400 / 10_000)
            roll = rng.random()
            status = (
                JobStatus.COMPLETED
                if roll < 0.80
                else JobStatus.FAILED
                if roll < 0.95
                else rng.choice([JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.IN_QUEUE])
            )
            job = AvatarJob(
                id=uuid.uuid4(),
                owner=user,
                selfie=f"selfies/{user.pk}/{i}.jpg",
                prompt="athletic build, navy t-shirt",
                seed=rng.randrange(2**32),
                status=status,
                deadline_at=created + timedelta(minutes=30),
                submitted_at=created + timedelta(seconds=2) if status != JobStatus.QUEUED else None,
                finished_at=created + timedelta(seconds=15)
                if status in (JobStatus.COMPLETED, JobStatus.FAILED)
                else None,
                error_name="PoseError" if status == JobStatus.FAILED else "",
                error_message="We could not find a clear pose."
                if status == JobStatus.FAILED
                else "",
            )
            jobs.append(job)
            if job.submitted_at:
                attempts.append(
                    PredictionAttempt(
                        job=job,
                        number=1,
                        prediction_id=f"bench-{job.id}",
                        status="completed" if status == JobStatus.COMPLETED else "processing",
                        submitted_at=job.submitted_at,
                    )
                )
            if status == JobStatus.COMPLETED:
                base = f"avatars/{user.pk}/{job.id}/"
                results.append(
                    AvatarResult(
                        job=job,
                        index=0,
                        image=base + "0.jpg",
                        thumbnail=base + "0-thumb.jpg",
                        width=1024,
                        height=1536,
                        content_type="image/jpeg",
                    )
                )
        AvatarJob.objects.bulk_create(jobs)
        # auto_now_add ignores a value given at creation: spread created_at over 30 days after.
        PredictionAttempt.objects.bulk_create(attempts)
        AvatarResult.objects.bulk_create(results)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE avatars_avatarjob SET created_at = submitted_at - interval '2 seconds' "
            "WHERE submitted_at IS NOT NULL"
        )
        cursor.execute("ANALYZE")


def sample_jobs(user) -> dict[str, AvatarJob]:
    jobs = AvatarJob.objects.filter(owner=user)
    return {
        "completed": jobs.filter(status=JobStatus.COMPLETED).order_by("-created_at").first(),
        "running": jobs.filter(status__in=[JobStatus.PROCESSING, JobStatus.IN_QUEUE])
        .order_by("-created_at")
        .first()
        or jobs.exclude(status=JobStatus.COMPLETED).first(),
    }


# ---------------------------------------------------------------------------- measuring


def cases(user, total: int) -> list[tuple[str, str, dict, int]]:
    jobs = sample_jobs(user)
    last_page = max(1, -(-total // 24))
    return [
        ("gallery, page 1", "/gallery/", {}, GALLERY_MS),
        (f"gallery, page {last_page} (last)", f"/gallery/?page={last_page}", {}, GALLERY_MS),
        ("gallery, failed filter", "/gallery/?status=failed", {}, GALLERY_MS),
        ("gallery, in progress", "/gallery/?status=active", {}, GALLERY_MS),
        ("status page, completed", f"/avatars/{jobs['completed'].pk}/", {}, STATUS_PAGE_MS),
        ("status page, running", f"/avatars/{jobs['running'].pk}/", {}, STATUS_PAGE_MS),
        (
            "htmx panel, running",
            f"/avatars/{jobs['running'].pk}/",
            {"HTTP_HX_REQUEST": "true"},
            STATUS_PAGE_MS,
        ),
        (
            "status JSON, running",
            f"/avatars/{jobs['running'].pk}/status/",
            {},
            STATUS_JSON_MS,
        ),
        (
            "status JSON, completed",
            f"/avatars/{jobs['completed'].pk}/status/",
            {},
            STATUS_JSON_MS,
        ),
    ]


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def measure(client: Client, url: str, headers: dict, requests: int) -> dict:
    for _ in range(2):
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
    # Django clears the query log when a request starts (request_started -> reset_queries):
    # start from an empty log so that CaptureQueriesContext's slice holds this request's queries.
    reset_queries()
    sql_seconds = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds.append(time.perf_counter() - started)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        client.get(url, **headers)
    queries = list(captured.captured_queries)  # a live slice of connection.queries: copy it now
    # Every timed request's query count too, to show that it does not vary between requests.
    counts, count = [], [0]

    def counted(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    times = []
    with connection.execute_wrapper(counted):
        for _ in range(requests):
            count[0] = 0
            started = time.perf_counter()
            client.get(url, **headers)
            times.append((time.perf_counter() - started) * 1000)
            counts.append(count[0])
    assert set(counts) == {len(queries)}, (url, len(queries), sorted(set(counts)))
    sql_ms = sum(sql_seconds) * 1000
    return {"times": times, "queries": len(queries), "sql_ms": sql_ms, "captured": queries}


def profile(client: Client, url: str, headers: dict, captured) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        client.get(url, **headers)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(f"\n--- profile of 20 x GET {url} (cumulative, top 25) ---")
    print("\n".join(out.getvalue().splitlines()[6:40]))
    slowest = max(captured, key=lambda q: float(q["time"]))
    print(f"slowest SQL ({float(slowest['time']) * 1000:.0f} ms): {slowest['sql'][:400]}")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + slowest["sql"])
        print("\n".join(row[0] for row in cursor.fetchall()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    load = os.getloadavg()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; PostgreSQL {pg_version} on loopback")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    call_command("migrate", verbosity=0)
    rng = random.Random(8)
    user = reset()
    client = Client()
    client.force_login(user)

    small = 10
    add_jobs(user, small, 0, rng)
    before = {
        name: measure(client, url, h, args.requests) for name, url, h, _ in cases(user, small)
    }
    started = time.perf_counter()
    add_jobs(user, args.jobs - small, small, rng)
    print(
        f"{args.jobs} jobs for one user made in {time.perf_counter() - started:.1f} s "
        f"({AvatarResult.objects.count()} results); {args.requests} requests per URL, "
        "django.test.Client, DEBUG on (dev settings)"
    )
    print()
    header = (
        f"{'request':<30}{'q@10':>6}{f'q@{args.jobs}':>8}{'SQL ms':>8}"
        f"{'median ms':>11}{'p90 ms':>8}{'target':>8}  result"
    )
    print(header)
    print("-" * len(header))
    misses, shown = [], {}
    for name, url, headers, target in cases(user, args.jobs):
        r = measure(client, url, headers, args.requests)
        shown[name] = r["captured"]
        key = name if not name.startswith("gallery, page") else "gallery, page 1"
        small_queries = before[key]["queries"]
        constant = small_queries == r["queries"]
        met = p90(r["times"]) < target and constant
        if not met:
            misses.append((url, headers, r["captured"]))
        print(
            f"{name:<30}{small_queries:>6}{r['queries']:>8}{r['sql_ms']:>8.1f}"
            f"{statistics.median(r['times']):>11.1f}{p90(r['times']):>8.1f}{f'<{target}':>8}"
            f"  {'met' if met else 'MISSED'}"
        )
    print()
    for name in ("gallery, page 1", "status JSON, running"):
        print(f"queries of one '{name}' request at {args.jobs} jobs:")
        for query in shown[name]:
            print(f"  {query['sql'][:110]}")
    load = os.getloadavg()
    print()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        "q@N: queries of one request with N jobs in the database (session and user included; "
        "the last gallery page is compared with page 1 at 10 jobs); "
        "SQL ms: their database time; met = p90 under target and queries constant"
    )
    if args.profile:
        for url, headers, captured in misses:
            profile(client, url, headers, captured)


if __name__ == "__main__":
    try:
        main()
    finally:
        _media.cleanup()
