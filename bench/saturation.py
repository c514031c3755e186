"""Provider saturation benchmark (issue 8, target 1): a burst of jobs against 6 in-flight slots.

    .venv/bin/python bench/saturation.py [--jobs 300] [--processing-seconds 3] [--workers 1]

A burst of ``--jobs`` jobs is created at once through ``services.create_job`` (as the upload
view does) and run by real Celery worker processes (prefork, concurrency 2 each) against the
offline engine (``running_engine``, in this process, on loopback) with ``max_in_flight=6`` and a
fixed processing time T. The ideal throughput is 6/T jobs per second; the table shows how close
the pipeline gets, how many in-flight slots were busy on average (sampled from the database every
0.25 s), the provider's 429s, and the rate of ``/v1/status`` calls against FASHN's 50 per 10 s.

FASHN's ``/v1/run`` limit (50 per 60 s) caps throughput at 0.83 jobs/s whatever T, so to measure
the in-flight limit the run limit is raised to 600 per 60 s on both sides (engine and
``FASHN_RUN_RATE``); the status limit stays FASHN's 50 per 10 s on both sides. Everything else is
the app's default configuration for the offline engine (first poll after 1 s, then 1 s backing off
to 15 s). No beat: the sweeper only matters when a message is lost.

Own database (``avatar_studio_bench``, job tables truncated), Redis DB 14 with its own key prefix
and Celery queue (removed at the end), a temporary MEDIA_ROOT. The workers are stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import BENCH_DB_NAME, cpu_model, ensure_bench_database  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from avatar_studio.engine import running_engine  # noqa: E402  (no Django imports)

DB_NAME = BENCH_DB_NAME
RUN_RATE = (600, 60)


def small_selfie() -> bytes:
    import io

    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def start_worker(log_path: Path, name: str) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - the worker owns it until it exits
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "avatar_studio",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"{name}@%h",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return process


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--processing-seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    T = args.processing_seconds

    ensure_bench_database()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    media = tempfile.TemporaryDirectory(prefix="bench-saturation-media-")
    tag = f"bench-saturation-{os.getpid()}"
    with running_engine(
        max_in_flight=6,
        processing_seconds=T,
        run_limit=RUN_RATE[0],
        run_window_seconds=RUN_RATE[1],
    ) as engine:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "avatar_studio.settings",
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
                "REDIS_URL": "redis://127.0.0.1:6379/14",
                "REDIS_KEY_PREFIX": tag,
                "CELERY_QUEUE": tag,
                "MEDIA_ROOT": media.name,
                "FASHN_BASE_URL": engine.url,
                "ENGINE_API_KEY": engine.api_key,
                "FASHN_MAX_IN_FLIGHT": "6",
                "FASHN_RUN_RATE": f"{RUN_RATE[0]}/{RUN_RATE[1]}",
                "LOG_LEVEL": "WARNING",
            }
        )
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.files.base import ContentFile
        from django.core.management import call_command
        from django.db import connection

        from avatar_studio.avatars import services
        from avatar_studio.avatars.models import PREDICTING_STATUSES, AvatarJob, JobStatus

        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE avatars_avatarresult, avatars_predictionattempt, avatars_sharelink, "
                "avatars_avatarjob CASCADE"
            )
        User = get_user_model()
        User.objects.filter(username="bench-saturation").delete()
        user = User.objects.create_user("bench-saturation", "sat@example.com", "bench-password")
        selfie = small_selfie()

        log_dir = Path(media.name) / "logs"
        log_dir.mkdir()
        workers = [
            start_worker(log_dir / f"worker-{i}.log", f"{tag}-{i}") for i in range(args.workers)
        ]
        try:
            time.sleep(5)  # let the workers connect before the burst
            for worker in workers:
                if worker.poll() is not None:
                    sys.exit((log_dir / "worker-0.log").read_text())
            started = time.monotonic()
            for i in range(args.jobs):
                services.create_job(
                    owner=user,
                    selfie_name="selfie.jpg",
                    selfie_file=ContentFile(selfie),
                    prompt="athletic build",
                    aspect_ratio="2:3",
                    seed=i,
                    output_format="jpeg",
                )
            created = time.monotonic() - started
            samples, first_done = [], None
            deadline = started + args.jobs * T / 6 * 4 + 120
            jobs = AvatarJob.objects.filter(owner=user)
            while time.monotonic() < deadline:
                predicting = jobs.filter(status__in=PREDICTING_STATUSES).count()
                finished = jobs.filter(status__in=[JobStatus.COMPLETED, JobStatus.FAILED]).count()
                now = time.monotonic() - started
                samples.append((now, predicting, finished))
                if finished and first_done is None:
                    first_done = now
                if finished == args.jobs:
                    break
                time.sleep(0.25)
            elapsed = time.monotonic() - started
        finally:
            for worker in workers:
                stop_worker(worker)
        stats = engine.stats()
        completed = jobs.filter(status=JobStatus.COMPLETED).count()
        failed = jobs.filter(status=JobStatus.FAILED).count()
        errors = sorted(
            set(jobs.filter(status=JobStatus.FAILED).values_list("error_name", flat=True))
        )
        # The steady phase: from the first finished job to the last 6 (the tail drains slots).
        steady = [s for s in samples if first_done and s[0] >= first_done and s[2] <= args.jobs - 6]
        in_flight = statistics.mean(s[1] for s in steady) if steady else float("nan")
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/14")
        for key in client.scan_iter(f"*{tag}*"):  # the limiter's keys, the queue's bindings
            client.delete(key)
        client.delete(tag)

    done = completed + failed
    throughput = done / elapsed
    ideal = 6 / T
    print(
        f"{args.jobs} jobs created in {created:.1f} s; {args.workers} Celery worker process(es), "
        f"prefork concurrency 2; engine max_in_flight=6, processing T={T:g} s, run limit "
        f"{RUN_RATE[0]}/{RUN_RATE[1]} s, status limit 50/10 s"
    )
    print()
    header = (
        f"{'jobs':>5}{'done':>6}{'failed':>8}{'wall s':>8}{'jobs/s':>8}{'6/T':>6}{'ratio':>7}"
        f"{'mean busy slots':>17}{'429s':>6}{'status/10s':>12}{'runs':>6}"
    )
    print(header)
    print("-" * len(header))
    rejected = stats.get("rejected", {})
    refused = sum(rejected.values())
    print(
        f"{args.jobs:>5}{completed:>6}{failed:>8}{elapsed:>8.1f}{throughput:>8.2f}{ideal:>6.2f}"
        f"{throughput / ideal:>7.0%}{in_flight:>17.2f}{refused:>6}"
        f"{stats['status_calls'] / elapsed * 10:>12.1f}{stats['run_calls']:>6}"
    )
    print()
    print(f"engine refusals by type: {rejected or 'none'}; failed jobs' errors: {errors or 'none'}")
    print(f"status calls {stats['status_calls']}, output downloads {stats['output_calls']}")
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    media.cleanup()


if __name__ == "__main__":
    main()
