"""Tracking capacity benchmark: 1,000 predictions in flight, one worker.

    .venv/bin/python bench/tracking.py [--jobs 1000] [--processing-seconds 60]
                                       [--status-rate 100] [--naive-jobs 4] [--warmup 10]
                                       [--create-rate 20]

Ours: one Celery worker process (prefork, concurrency 2: two worker slots) runs the pipeline
against an offline engine whose in-flight limit is raised to ``--jobs`` and whose predictions
take T = ``--processing-seconds``. ``--jobs`` jobs are created ``--create-rate`` per second
(20: all 1,000 within 50 s, so all are in flight together before the first ends at T = 60 s; 0
creates them as fast as this process can) through ``services.create_avatar``, as the upload view
does. Each is submitted, then polled by short tasks that re-schedule themselves
(``avatars.cadence``), so a worker slot is held only while a step runs. The status budget is
``--status-rate`` calls per second on both sides (the engine's limit and ``FASHN_STATUS_RATE``);
the run limit is raised to twice ``--jobs`` per 60 s on both sides so that FASHN's 50 runs per
minute is not what is measured. Before them, ``--warmup`` jobs run to completion so that the
cadence has learnt T (a deployment has history; an empty database polls with the fixed
schedule).

Naive, side by side in the same run, on a second engine with the same configuration (its own
limits, as another account would have): 2 worker slots (threads) each running the official
``fashn`` SDK's blocking ``predictions.subscribe()`` (run, then a status call every second until
the prediction ends), one job at a time. It can track only 2 predictions at once whatever the
load, so ``--naive-jobs`` (4) is enough to show it: the last 2 wait a whole T for a free slot.

Reported: every job's end, the peak number of predictions in flight at the engine, jobs tracked
per worker slot, time from create to submitted, status calls per second (mean and the busiest
second, from the engine's counter) against the budget, the worker's CPU (its whole process tree,
psutil) on average and in the busiest 5 s. Own database, Redis DB 14 with its own key prefix and
queue, a temporary MEDIA_ROOT; the engines return a prepared picture instead of rendering.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import machine  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def engine_config(args):
    return {
        "max_in_flight": args.jobs + args.warmup,
        "processing_seconds": args.processing_seconds,
        "status_limit": args.status_rate,
        "status_window_seconds": 1.0,
        "run_limit": 2 * args.jobs,
        "run_window_seconds": 60.0,
        "credits": 10 * (args.jobs + args.warmup + args.naive_jobs),
    }


class Naive:
    """2 worker slots, each blocked in the SDK's subscribe() for one prediction at a time."""

    def __init__(self, engine, jobs, selfie, slots=2):
        from fashn import Fashn

        self.client = Fashn(api_key=engine.api_key, base_url=engine.url, max_retries=0)
        self.jobs, self.slots = jobs, slots
        self.face = "data:image/jpeg;base64," + base64.b64encode(selfie).decode()
        self.lock = threading.Lock()
        self.tracking = self.peak = 0
        self.waits, self.statuses, self.errors = [], [], []
        self.thread = None

    def _one(self, number, queued_at):
        with self.lock:
            self.waits.append(time.monotonic() - queued_at)  # waited for a free slot
            self.tracking += 1
            self.peak = max(self.peak, self.tracking)
        try:
            result = self.client.predictions.subscribe(
                model_name="face-to-model",
                inputs={
                    "face_image": self.face,
                    "prompt": "athletic build",
                    "aspect_ratio": "2:3",
                    "seed": number,
                    "output_format": "jpeg",
                },
            )
            self.statuses.append(result.status)
        except Exception as error:  # noqa: BLE001 - reported in the table
            self.errors.append(repr(error))
        finally:
            with self.lock:
                self.tracking -= 1

    def start(self):
        def run():
            queued_at = time.monotonic()
            with ThreadPoolExecutor(max_workers=self.slots) as pool:
                for number in range(self.jobs):
                    pool.submit(self._one, number, queued_at)

        self.started = time.monotonic()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout):
        self.thread.join(timeout)
        self.elapsed = time.monotonic() - self.started


def create_jobs(services, user, selfie, count, first_seed, rate=0.0):
    """``count`` jobs, ``rate`` per second (0: as fast as this process can)."""
    started = time.monotonic()
    for i in range(count):
        if rate:
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
        services.create_avatar(
            owner=user,
            selfie=selfie,
            inputs={**machine.JOB_INPUTS, "seed": first_seed + i},
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--processing-seconds", type=float, default=60.0)
    parser.add_argument("--status-rate", type=int, default=100, help="status calls per second")
    parser.add_argument("--naive-jobs", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--create-rate", type=float, default=20.0, help="jobs created per second (0: a burst)"
    )
    args = parser.parse_args(argv)
    T = args.processing_seconds

    machine.ensure_bench_database()
    print(f"machine: {os.cpu_count()} cores, {machine.cpu_model()}")
    print(f"load average at start: {machine.load_average()}")
    media = tempfile.TemporaryDirectory(prefix="bench-tracking-media-")
    tag = f"bench-tracking-{os.getpid()}"
    config = engine_config(args)
    keep = 3 * (args.jobs + args.warmup)
    with (
        machine.bench_engine(keep_predictions=keep, **config) as engine,
        machine.bench_engine(keep_predictions=keep, **config) as naive_engine,
    ):
        env = machine.bench_environment(
            tag=tag,
            media_root=media.name,
            engine=engine,
            FASHN_MAX_IN_FLIGHT=config["max_in_flight"],
            FASHN_RUN_RATE=f"{config['run_limit']}/60",
            FASHN_STATUS_RATE=f"{args.status_rate}/1",
        )
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        from avatar_studio.avatars import services
        from avatar_studio.avatars.models import PREDICTING_STATUSES, AvatarJob, JobStatus

        call_command("migrate", verbosity=0)
        machine.reset_job_tables()
        warm_user = machine.bench_owner("bench-tracking-warmup")
        user = machine.bench_owner("bench-tracking")
        selfie = machine.small_selfie_for_service()
        log = Path(media.name) / "worker.log"
        worker = machine.start_worker(log, tag, env)
        try:
            machine.worker_ready(worker, log, tag)
            cpu = machine.TreeCpu(worker.pid)

            # Warm-up: the cadence learns T from these.
            warm_started = time.monotonic()
            create_jobs(services, warm_user, selfie, args.warmup, 10**6)
            warm = AvatarJob.objects.filter(owner=warm_user)
            while warm.filter(status__in=[JobStatus.COMPLETED, JobStatus.FAILED]).count() < (
                args.warmup
            ):
                if time.monotonic() - warm_started > 3 * T + 60:
                    sys.exit("the warm-up jobs did not finish")
                time.sleep(1)
            warm_seconds = time.monotonic() - warm_started
            print(f"  (warm-up: {args.warmup} jobs in {warm_seconds:.0f} s)", flush=True)

            # The jobs, with the naive design running beside them.
            base_status = engine.stats()["status_calls"]
            naive = Naive(naive_engine, args.naive_jobs, selfie.jpeg)
            naive.start()
            started = time.monotonic()
            cpu_start = cpu.seconds()
            creation = {}

            def create_all():
                from django.db import connection

                try:
                    create_jobs(services, user, selfie, args.jobs, 0, args.create_rate)
                finally:
                    creation["seconds"] = time.monotonic() - started
                    connection.close()

            # Created in a thread, so that the samples below cover the submissions too.
            creator = threading.Thread(target=create_all, daemon=True)
            creator.start()
            jobs = AvatarJob.objects.filter(owner=user)
            samples = []  # (t, cpu seconds, status calls, engine in flight, predicting, finished)
            deadline = started + 3 * T + 180
            while time.monotonic() < deadline:
                snapshot = engine.stats()
                finished = jobs.filter(status__in=[JobStatus.COMPLETED, JobStatus.FAILED]).count()
                samples.append(
                    (
                        time.monotonic() - started,
                        cpu.seconds() - cpu_start,
                        snapshot["status_calls"] - base_status,
                        snapshot["in_flight"],
                        jobs.filter(status__in=PREDICTING_STATUSES).count(),
                        finished,
                    )
                )
                if finished == args.jobs:
                    break
                time.sleep(1.0)
            elapsed = time.monotonic() - started
            creator.join(timeout=5)
            created = creation.get("seconds", float("nan"))
            naive.join(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            machine.stop(worker)
            machine.forget_redis_keys(tag)
        stats = engine.stats()
        naive_stats = naive_engine.stats()

    completed = jobs.filter(status=JobStatus.COMPLETED).count()
    failed = jobs.filter(status=JobStatus.FAILED).count()
    errors = sorted(set(jobs.filter(status=JobStatus.FAILED).values_list("error_name", flat=True)))
    waits = [
        (submitted - created_at).total_seconds()
        for created_at, submitted in jobs.exclude(submitted_at=None).values_list(
            "created_at", "submitted_at"
        )
    ]
    from avatar_studio.avatars.models import PredictionAttempt

    attempts = PredictionAttempt.objects.filter(job__owner=user).count()
    peak_engine = max(s[3] for s in samples)
    peak_db = max(s[4] for s in samples)
    # Status calls: mean over the run, and the busiest 1 s sample interval.
    pairs = zip(samples, samples[1:], strict=False)
    rates = [(b[2] - a[2]) / (b[0] - a[0]) for a, b in pairs if b[0] > a[0]]
    status_total = samples[-1][2]
    cpu_total = samples[-1][1]
    cpu_windows = []
    for i, a in enumerate(samples):
        later = [b for b in samples[i + 1 :] if b[0] - a[0] >= 5.0]
        if later:
            b = later[0]
            cpu_windows.append((b[1] - a[1]) / (b[0] - a[0]))
    # CPU by phase: creating and submitting; all in flight with none ended yet; ending.
    first_end = next((s for s in samples if s[5] > 0), samples[-1])
    after_created = next((s for s in samples if s[0] >= created), samples[-1])
    phases = []
    for name, a, b in (
        ("submitting", samples[0], after_created),
        ("tracking only", after_created, first_end),
        ("completing", first_end, samples[-1]),
    ):
        if b[0] > a[0]:
            phases.append(f"{name} {(b[1] - a[1]) / (b[0] - a[0]):.2f} ({b[0] - a[0]:.0f} s)")
    naive_peak = naive.peak
    ours_per_slot = peak_engine / 2
    naive_per_slot = naive_peak / 2

    print(
        f"engines: max_in_flight={config['max_in_flight']}, T={T:g} s, status limit "
        f"{args.status_rate}/s (FASHN_STATUS_RATE {args.status_rate}/1), run limit "
        f"{config['run_limit']}/60 s (raised so that the run limit is not the bottleneck); "
        f"warm-up {args.warmup} jobs; {args.jobs} jobs created in {created:.1f} s "
        f"({f'{args.create_rate:g} per second' if args.create_rate else 'a burst'})"
    )
    print()
    header = (
        f"{'design':<22}{'slots':>6}{'jobs':>6}{'done':>6}{'failed':>7}{'peak in flight':>16}"
        f"{'per slot':>10}{'wall s':>8}{'status/s mean':>15}{'busiest 1 s':>13}{'budget':>8}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{'ours (poll tasks)':<22}{2:>6}{args.jobs:>6}{completed:>6}{failed:>7}{peak_engine:>16}"
        f"{ours_per_slot:>10.1f}{elapsed:>8.1f}{status_total / elapsed:>15.1f}"
        f"{max(rates, default=float('nan')):>13.1f}{args.status_rate:>8}"
    )
    naive_calls = naive_stats["status_calls"]
    print(
        f"{'naive (subscribe())':<22}{2:>6}{args.naive_jobs:>6}"
        f"{sum(s == 'completed' for s in naive.statuses):>6}{len(naive.errors):>7}{naive_peak:>16}"
        f"{naive_per_slot:>10.1f}{naive.elapsed:>8.1f}{naive_calls / naive.elapsed:>15.1f}"
        f"{'':>13}{args.status_rate:>8}"
    )
    print()
    print(
        f"jobs tracked per worker slot: ours {ours_per_slot:.0f}, naive {naive_per_slot:.0f}: "
        f"{ours_per_slot / naive_per_slot:.0f}x (goal: at least 100x)"
    )
    print(
        f"ours, create to submitted: median {statistics.median(waits):.2f} s, p90 "
        f"{machine.percentile(waits, 0.9):.2f} s, max {max(waits):.2f} s over {len(waits)} jobs "
        f"(created in {created:.1f} s); peak jobs in submitted/in_queue/processing "
        f"in the database {peak_db}; /v1/run calls {stats['run_calls'] - args.warmup} for "
        f"{args.jobs} jobs, engine refusals {stats.get('rejected') or 'none'}; failed: "
        f"{errors or 'none'}; attempts {attempts}"
    )
    print(
        f"ours, worker CPU (main + 2 pool processes): {cpu_total:.1f} s over {elapsed:.1f} s = "
        f"{cpu_total / elapsed:.2f} cores on average, {max(cpu_windows, default=float('nan')):.2f} "
        f"in the busiest 5 s (goal: under 1 core); by phase, cores: {'; '.join(phases)}"
    )
    print(
        f"ours, status calls {status_total} = {status_total / args.jobs:.1f} per job; output "
        f"downloads {stats['output_calls'] - args.warmup}"
    )
    print(
        f"naive, waited for a free worker slot: {', '.join(f'{w:.1f}' for w in naive.waits)} s; "
        f"status calls {naive_calls} = {naive_calls / max(1, args.naive_jobs):.1f} per job; "
        f"errors {naive.errors or 'none'}"
    )
    print(f"load average at end: {machine.load_average()}")
    media.cleanup()


if __name__ == "__main__":
    main()
