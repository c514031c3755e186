"""Completion latency benchmark: engine completed -> avatar in the gallery.

    .venv/bin/python bench/latency.py [--jobs 30] [--warmup 8] [--processing-seconds 5]
                                      [--interval 1.5] [--modes polling,webhooks]

Jobs are created one every ``--interval`` seconds (through ``services.create_avatar``, as the upload
view does) and run by one real Celery worker process (prefork, concurrency 2) against the offline
engine in this process: FASHN's default limits (6 in flight, 50 runs per 60 s, 50 status calls
per 10 s on both sides) and a fixed processing time T. For each job the bench takes:

- **ended**: the instant the engine turned the prediction ``completed`` (its store's ``_finish``,
  wrapped in this process; wall clock, the same clock as the database's timestamps);
- **seen**: the first ``/v1/status`` answer that reported it completed (the store's ``get``);
- **visible**: the job's ``finished_at``, written in the transaction that stores the results and
  completes the job, i.e. when the avatar appears in the gallery (``AvatarJob.objects.avatars()``
  reads completed jobs only).

Modes, one after the other from an empty database: ``polling`` (no webhooks: the poll cadence,
``avatars.cadence``) and ``webhooks`` (``PUBLIC_BASE_URL`` = a gunicorn on loopback with
runstack's settings; the engine's webhook brings the poll forward). The first ``--warmup`` jobs of
each mode are left out of the figures: with no history the cadence polls on the fixed schedule.
The engine returns a prepared 576x864 JPEG instead of rendering (``machine.canned_render``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import machine  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = ("polling", "webhooks")
TARGETS = {"polling": 1.0, "webhooks": 0.3}


def run_mode(mode, args, engine, media_root, user, selfie, ended, seen, webhooks):

    from avatar_studio import celery_app
    from avatar_studio.avatars import services
    from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionAttempt

    engine.reset()
    machine.reset_job_tables()
    ended.clear()
    seen.clear()
    webhooks.update(sent=0, delivered=0)
    tag = f"bench-latency-{os.getpid()}-{mode}"
    log_dir = Path(media_root) / "logs"
    log_dir.mkdir(exist_ok=True)
    extra = {}
    web = None
    if mode == "webhooks":
        port = machine.free_port()
        extra["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    env = machine.bench_environment(tag=tag, media_root=media_root, engine=engine, **extra)
    celery_app.conf.task_default_queue = tag
    worker = None
    total = args.warmup + args.jobs
    try:
        if mode == "webhooks":
            web_log = log_dir / f"web-{mode}.log"
            web = machine.start_web(web_log, port, env)
            machine.wait_for_http(f"{extra['PUBLIC_BASE_URL']}/healthz", web, web_log)
        log = log_dir / f"worker-{mode}.log"
        worker = machine.start_worker(log, tag, env)
        machine.worker_ready(worker, log, tag)
        jobs = []
        for i in range(total):
            jobs.append(
                services.create_avatar(
                    owner=user,
                    selfie=selfie,
                    inputs={**machine.JOB_INPUTS, "seed": i},
                ).pk
            )
            time.sleep(args.interval)
        deadline = time.monotonic() + 3 * args.processing_seconds + 60
        finished = [JobStatus.COMPLETED, JobStatus.FAILED]
        while AvatarJob.objects.filter(pk__in=jobs, status__in=finished).count() < total:
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        machine.stop(worker)
        machine.stop(web)
        machine.forget_redis_keys(tag)
    stats = engine.stats()
    measured = set(jobs[args.warmup :])
    rows = PredictionAttempt.objects.filter(job_id__in=measured, status="completed").values_list(
        "prediction_id", "job__finished_at"
    )
    total_lags, detect, store = [], [], []
    for prediction_id, finished_at in rows:
        if prediction_id not in ended or finished_at is None:
            continue
        end = ended[prediction_id][0]
        total_lags.append(finished_at.timestamp() - end)
        if prediction_id in seen:
            detect.append(seen[prediction_id] - end)
            store.append(finished_at.timestamp() - seen[prediction_id])
    completed = AvatarJob.objects.filter(pk__in=measured, status=JobStatus.COMPLETED).count()
    return {
        "mode": mode,
        "completed": completed,
        "total": total_lags,
        "detect": detect,
        "store": store,
        "stats": stats,
        "webhooks": dict(webhooks),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--processing-seconds", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=1.5)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: choose from {', '.join(MODES)}")

    machine.ensure_bench_database()
    print(f"machine: {os.cpu_count()} cores, {machine.cpu_model()}")
    print(f"load average at start: {machine.load_average()}")
    media = tempfile.TemporaryDirectory(prefix="bench-latency-media-")
    rows = []
    with machine.bench_engine(processing_seconds=args.processing_seconds) as engine:
        tag = f"bench-latency-{os.getpid()}"
        os.environ.update(machine.bench_environment(tag=tag, media_root=media.name, engine=engine))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        machine.reset_job_tables()
        user = machine.bench_owner("bench-latency")
        selfie = machine.small_selfie_for_service()
        ended = machine.record_completions(engine)
        seen = machine.record_first_completed_status(engine)
        webhooks = machine.count_webhooks()
        for mode in modes:
            rows.append(
                run_mode(mode, args, engine, media.name, user, selfie, ended, seen, webhooks)
            )
            print(f"  ({mode} done, load average {machine.load_average()})", flush=True)

    print(
        f"{args.warmup} warm-up + {args.jobs} measured jobs per mode, one every "
        f"{args.interval:g} s; T={args.processing_seconds:g} s; engine and app limits: 6 in "
        f"flight, 50 runs/60 s, 50 status calls/10 s; 1 Celery worker process, prefork "
        f"concurrency 2"
    )
    print()
    header = (
        f"{'mode':<9}{'jobs':>5}{'done':>6}{'median s':>10}{'p90 s':>8}{'max s':>8}"
        f"{'seen med':>10}{'seen p90':>10}{'store med':>11}{'status/job':>12}{'429s':>6}"
        f"{'target':>8}{'result':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        median = statistics.median(r["total"]) if r["total"] else float("nan")
        stats = r["stats"]
        refused = sum(stats.get("rejected", {}).values())
        target = TARGETS[r["mode"]]
        print(
            f"{r['mode']:<9}{args.jobs:>5}{r['completed']:>6}{median:>10.3f}"
            f"{machine.percentile(r['total'], 0.9):>8.3f}{max(r['total'], default=0):>8.3f}"
            f"{statistics.median(r['detect']) if r['detect'] else float('nan'):>10.3f}"
            f"{machine.percentile(r['detect'], 0.9):>10.3f}"
            f"{statistics.median(r['store']) if r['store'] else float('nan'):>11.3f}"
            f"{stats['status_calls'] / (args.jobs + args.warmup):>12.2f}{refused:>6}"
            f"{'<' + format(target, 'g'):>8}{'met' if median < target else 'MISSED':>8}"
        )
    print()
    for r in rows:
        print(
            f"{r['mode']}: webhooks sent {r['webhooks']['sent']}, delivered "
            f"{r['webhooks']['delivered']}; engine refusals {r['stats'].get('rejected') or 'none'}"
        )
    print(
        "median/p90/max: engine completed -> job finished_at (results committed, in the gallery); "
        "seen: engine completed -> first status answer saying so; store: seen -> finished_at"
    )
    print(f"load average at end: {machine.load_average()}")
    media.cleanup()


if __name__ == "__main__":
    main()
