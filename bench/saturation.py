"""Provider saturation benchmark: a burst of jobs against 6 in-flight slots.

    .venv/bin/python bench/saturation.py [--jobs 300] [--processing-seconds 3] [--workers 1]
                                         [--concurrency 2] [--modes polling,webhooks]

A burst of ``--jobs`` jobs is created at once through ``services.create_avatar`` (as the upload
view does) and run by real Celery worker processes (prefork, concurrency 2 each) against the
offline engine (in this process, on loopback) with ``max_in_flight=6`` and a fixed processing
time T. The ideal throughput is 6/T jobs per second; the table shows how close the pipeline gets,
how many in-flight slots were busy on average (sampled from the database every 0.25 s), the
provider's 429s, and the rate of ``/v1/status`` calls against FASHN's 50 per 10 s.

Each mode runs the same burst from an empty database (so the poll cadence starts with no history
and learns it during the run), one after the other, in the same engine:

- ``polling``: no webhooks; completion is seen by polling (``avatars.cadence``: the first poll
  near the expected end learnt from recent attempts, then short polls within the status budget).
- ``webhooks``: ``PUBLIC_BASE_URL`` points at a gunicorn on loopback (runstack's settings); the
  engine calls ``/fashn/webhook/<secret>/`` when a prediction ends, which brings the poll forward;
  polling stays as the safety net.

FASHN's ``/v1/run`` limit (50 per 60 s) caps throughput at 0.83 jobs/s whatever T, so to measure
the in-flight limit the run limit is raised to 600 per 60 s on both sides (engine and
``FASHN_RUN_RATE``); the status limit stays FASHN's 50 per 10 s on both sides. The engine returns
a prepared picture instead of rendering (``machine.canned_render``: FASHN's GPUs are not on our
CPU). Everything else is the app's default configuration for the offline engine. No beat: the
sweeper only matters when a message is lost.

Own database (``avatar_studio_bench``, job tables emptied before each mode), Redis DB 14 with its
own key prefix and Celery queue per mode (removed at the end), a temporary MEDIA_ROOT. Workers
and web servers are stopped at the end of each mode.
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

RUN_RATE = (600, 60)
MODES = ("polling", "webhooks")


def run_mode(mode, args, engine, media_root, user, selfie, hooks):
    ended, seen, admitted, webhooks = hooks

    from avatar_studio import celery_app
    from avatar_studio.avatars import services
    from avatar_studio.avatars.models import PREDICTING_STATUSES, AvatarJob, JobStatus

    T = args.processing_seconds
    engine.reset()
    machine.reset_job_tables()
    ended.clear()
    seen.clear()
    admitted.clear()
    webhooks.update(sent=0, delivered=0)
    tag = f"bench-saturation-{os.getpid()}-{mode}"
    extra = {"FASHN_MAX_IN_FLIGHT": 6, "FASHN_RUN_RATE": f"{RUN_RATE[0]}/{RUN_RATE[1]}"}
    log_dir = Path(media_root) / "logs"
    log_dir.mkdir(exist_ok=True)
    web = None
    if mode == "webhooks":
        extra["PUBLIC_BASE_URL"] = machine.loopback_base_url()
    env = machine.bench_environment(tag=tag, media_root=media_root, engine=engine, **extra)
    celery_app.conf.task_default_queue = tag  # this process sends the submit tasks
    workers = []
    try:
        if mode == "webhooks":
            log = log_dir / f"web-{mode}.log"
            web = machine.start_web_ready(log, extra["PUBLIC_BASE_URL"], env)
        for i in range(args.workers):
            name = f"{tag}-{i}"
            log = log_dir / f"worker-{mode}-{i}.log"
            workers.append(machine.start_worker(log, name, env, args.concurrency))
            machine.worker_ready(workers[-1], log, name)
        cpus = [machine.TreeCpu(process.pid) for process in workers]
        cpu_start = sum(cpu.seconds() for cpu in cpus)
        started = time.monotonic()
        for i in range(args.jobs):
            services.create_avatar(
                owner=user,
                selfie=selfie,
                inputs={**machine.JOB_INPUTS, "seed": i},
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
        worker_cpu = sum(cpu.seconds() for cpu in cpus) - cpu_start
    finally:
        for process in workers:
            machine.stop(process)
        machine.stop(web)
        machine.forget_redis_keys(tag)
    stats = engine.stats()
    completed = jobs.filter(status=JobStatus.COMPLETED).count()
    failed = jobs.filter(status=JobStatus.FAILED).count()
    errors = sorted(set(jobs.filter(status=JobStatus.FAILED).values_list("error_name", flat=True)))
    # The steady phase: from the first finished job to the last 6 (the tail drains slots).
    steady = [s for s in samples if first_done and s[0] >= first_done and s[2] <= args.jobs - 6]
    lags = machine.completion_lags(ended, user)
    return {
        "mode": mode,
        "lags": lags,
        "seen": [seen[pid] - ended[pid][0] for pid in seen if pid in ended],
        "refill": machine.refill_gaps(seen.values(), admitted, 6),
        "webhooks": dict(webhooks),
        "created": created,
        "completed": completed,
        "failed": failed,
        "errors": errors,
        "elapsed": elapsed,
        "cpu": worker_cpu,
        "busy": statistics.mean(s[1] for s in steady) if steady else float("nan"),
        "stats": stats,
    }


def median_of(values):
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--processing-seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2, help="prefork processes per worker")
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: choose from {', '.join(MODES)}")
    T = args.processing_seconds

    machine.ensure_bench_database()
    print(f"machine: {os.cpu_count()} cores, {machine.cpu_model()}")
    print(f"load average at start: {machine.load_average()}")
    media = tempfile.TemporaryDirectory(prefix="bench-saturation-media-")
    rows = []
    with machine.bench_engine(
        max_in_flight=6,
        processing_seconds=T,
        run_limit=RUN_RATE[0],
        run_window_seconds=RUN_RATE[1],
    ) as engine:
        tag = f"bench-saturation-{os.getpid()}"
        os.environ.update(machine.bench_environment(tag=tag, media_root=media.name, engine=engine))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        machine.reset_job_tables()  # before the user: its old jobs' files are gone
        user = machine.bench_owner("bench-saturation")
        selfie = machine.small_selfie_for_service()
        ended = machine.record_completions(engine)
        seen = machine.record_first_completed_status(engine)
        admitted = machine.record_runs(engine)
        hooks = (ended, seen, admitted, machine.count_webhooks())
        for mode in modes:
            rows.append(run_mode(mode, args, engine, media.name, user, selfie, hooks))
            print(f"  ({mode} done, load average {machine.load_average()})", flush=True)

    created = " / ".join(f"{r['created']:.1f}" for r in rows)
    print(
        f"{args.jobs} jobs per mode, each burst created in {created} s; {args.workers} Celery "
        f"worker process(es), prefork concurrency {args.concurrency}; engine max_in_flight=6, "
        f"processing T={T:g} s, run limit {RUN_RATE[0]}/{RUN_RATE[1]} s, status limit 50/10 s"
    )
    print()
    header = (
        f"{'mode':<9}{'jobs':>5}{'done':>6}{'failed':>8}{'wall s':>8}{'jobs/s':>8}{'6/T':>6}"
        f"{'ratio':>7}{'busy slots':>12}{'seen med s':>12}{'429s':>6}{'status/10s':>12}"
        f"{'status/job':>12}{'runs':>6}"
    )
    print(header)
    print("-" * len(header))
    ideal = 6 / T
    for r in rows:
        stats = r["stats"]
        throughput = (r["completed"] + r["failed"]) / r["elapsed"]
        refused = sum(stats.get("rejected", {}).values())
        print(
            f"{r['mode']:<9}{args.jobs:>5}{r['completed']:>6}{r['failed']:>8}{r['elapsed']:>8.1f}"
            f"{throughput:>8.2f}{ideal:>6.2f}{throughput / ideal:>7.0%}{r['busy']:>12.2f}"
            f"{median_of(r['seen']):>12.2f}{refused:>6}"
            f"{stats['status_calls'] / r['elapsed'] * 10:>12.1f}"
            f"{stats['status_calls'] / args.jobs:>12.2f}{stats['run_calls']:>6}"
        )
    print()
    for r in rows:
        stats = r["stats"]
        print(
            f"{r['mode']}: engine refusals by type: {stats.get('rejected') or 'none'}; failed "
            f"jobs' errors: {r['errors'] or 'none'}; status calls {stats['status_calls']}, output "
            f"downloads {stats['output_calls']}; webhooks sent {r['webhooks']['sent']}, delivered "
            f"{r['webhooks']['delivered']}; engine end to completion seen by a status call: median "
            f"{median_of(r['seen']):.2f} s, p90 {machine.percentile(r['seen'], 0.9):.2f} s; from "
            f"that to the slot's next /v1/run admitted: median {median_of(r['refill']):.2f} s, p90 "
            f"{machine.percentile(r['refill'], 0.9):.2f} s; to job "
            f"finished: median {median_of(r['lags']):.2f} s, p90 "
            f"{machine.percentile(r['lags'], 0.9):.2f} s"
        )
    for r in rows:
        idle = 6 * r["elapsed"] / args.jobs - T
        seen_mean = statistics.fmean(r["seen"]) if r["seen"] else float("nan")
        refill_mean = statistics.fmean(r["refill"]) if r["refill"] else float("nan")
        print(
            f"{r['mode']}: each slot cycle took T + {idle:.3f} s on average (6 x wall / jobs - T): "
            f"completion seen {seen_mean:.3f} s after the engine's end, the next run admitted "
            f"{refill_mean:.3f} s after that (means), the rest "
            f"{idle - seen_mean - refill_mean:.3f} s (first submissions, last storage, sampling); "
            f"worker CPU {r['cpu'] / r['elapsed']:.2f} cores on average"
        )
    print(f"load average at end: {machine.load_average()}")
    media.cleanup()


if __name__ == "__main__":
    main()
