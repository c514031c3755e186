"""Fair share benchmark: one owner's bulk queue against ten owners who ask for one avatar each.

    .venv/bin/python bench/fairness.py [--processing-seconds 3] [--bulk-jobs 20] [--others 10]
                                       [--spacing SECONDS] [--others-after SECONDS]
                                       [--spread 0] [--workers 1] [--concurrency 2]
                                       [--webhooks]

User A queues ``--bulk-jobs`` avatars at once (through ``services.create_avatar``, as the upload
view does); then users B, C, ... each submit one, B ``--others-after`` seconds after A's last
(default 0: at once) and each next one ``--spacing`` seconds later (default T/6, the rate at which
6 slots free up; 0 sends them all at once). Real Celery worker processes run them against the
offline engine (in this process, on loopback) with ``max_in_flight=6`` and a processing time T,
the same for every prediction unless ``--spread s`` has the engine draw each one's from
[T(1 - s), T(1 + s)] (``processing_spread``, seed 0: the same durations every run), so that
A's slots, started together, fall out of step (a delay such as 2T before B gives them time to).
Polling only by default; with ``--webhooks``, ``PUBLIC_BASE_URL`` points at a gunicorn on
loopback (runstack's settings) and the engine calls ``/fashn/webhook/<secret>/`` when a prediction
ends, which brings the poll forward (polling stays as the safety net). As ``bench/saturation.py``
does: the run limit raised to 600 per 60 s on both sides so that only the in-flight limit counts,
the engine's canned picture instead of rendering.

It prints, per user, the wait from submit (the job's ``created_at``) to its ``/v1/run`` (the
first attempt's ``submitted_at``, saved as the run answers) and the user's total time (first
submit to last job finished); then what B.. would wait if every slot were handed over the
instant its prediction ended (``ideal_waits``: the engine's drawn durations, the same arrivals
and order, no polling, no worker), how long after the engine ended a prediction a status call
saw it (its slot idles meanwhile: with varying durations the polling cadence learns one typical
end), and the engine's counts: runs sent and accepted (one per job: never a second ``/v1/run``
for one attempt), the most predictions it saw in flight and the webhooks it sent and delivered.

Own database (``avatar_studio_bench_fairness``, so it may run beside the other benches; job
tables emptied first), Redis DB 14 with its own key
prefix and Celery queue (removed at the end), a temporary MEDIA_ROOT. The workers and the web
server are stopped at the end.
"""

from __future__ import annotations

import argparse
import heapq
import os
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

import machine  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUN_RATE = (600, 60)
SLOTS = 6

machine.BENCH_DB_NAME = "avatar_studio_bench_fairness"
machine.BENCH_DB_URL = f"postgres://postgres@127.0.0.1:5432/{machine.BENCH_DB_NAME}"


def run(args, engine, media_root, users, selfie):
    from avatar_studio import celery_app
    from avatar_studio.avatars import services
    from avatar_studio.avatars.models import AvatarJob, JobStatus

    T = args.processing_seconds
    tag = f"bench-fairness-{os.getpid()}"
    extra = {"FASHN_MAX_IN_FLIGHT": SLOTS, "FASHN_RUN_RATE": f"{RUN_RATE[0]}/{RUN_RATE[1]}"}
    log_dir = Path(media_root) / "logs"
    log_dir.mkdir(exist_ok=True)
    if args.webhooks:
        extra["PUBLIC_BASE_URL"] = machine.loopback_base_url()
    env = machine.bench_environment(tag=tag, media_root=media_root, engine=engine, **extra)
    celery_app.conf.task_default_queue = tag  # this process sends the submit tasks
    workers, web = [], None
    bulk_owner, *others = users
    total_jobs = args.bulk_jobs + len(others)
    try:
        if args.webhooks:
            web = machine.start_web_ready(log_dir / "web.log", extra["PUBLIC_BASE_URL"], env)
        for i in range(args.workers):
            name = f"{tag}-{i}"
            log = log_dir / f"worker-{i}.log"
            workers.append(machine.start_worker(log, name, env, args.concurrency))
            machine.worker_ready(workers[-1], log, name)
        started = time.monotonic()
        for i in range(args.bulk_jobs):
            services.create_avatar(
                owner=bulk_owner, selfie=selfie, inputs={**machine.JOB_INPUTS, "seed": i}
            )
        time.sleep(args.others_after)
        others_from = time.monotonic() - started
        for i, owner in enumerate(others):
            if i:
                time.sleep(args.spacing)
            services.create_avatar(owner=owner, selfie=selfie, inputs=machine.JOB_INPUTS)
        deadline = time.monotonic() + total_jobs * T * (1 + args.spread) / SLOTS * 4 + 120
        finished = [JobStatus.COMPLETED, JobStatus.FAILED]
        while time.monotonic() < deadline:
            if AvatarJob.objects.filter(status__in=finished).count() == total_jobs:
                break
            time.sleep(0.25)
        elapsed = time.monotonic() - started
    finally:
        for process in workers:
            machine.stop(process)
        machine.stop(web)
        machine.forget_redis_keys(tag)
    return elapsed, others_from


def per_user(users):
    """Each user's jobs: waits from submit to first /v1/run (s), total time (s), statuses."""
    from avatar_studio.avatars.models import AvatarJob

    rows = []
    for user in users:
        jobs = list(AvatarJob.objects.filter(owner=user).prefetch_related("attempts"))
        waits = []
        for job in jobs:
            first = min(job.attempts.all(), key=lambda attempt: attempt.number, default=None)
            if first is not None:
                waits.append((first.submitted_at - job.created_at).total_seconds())
        ends = [job.finished_at for job in jobs if job.finished_at]
        total = (max(ends) - min(job.created_at for job in jobs)).total_seconds() if ends else None
        statuses = sorted(job.status for job in jobs)
        rows.append(
            {"user": user, "jobs": len(jobs), "waits": waits, "total": total, "st": statuses}
        )
    return rows


def ends_seen_late(ended):
    """Seconds from the engine's end of each prediction to the status call that saw it ended."""
    from avatar_studio.avatars.models import PredictionAttempt

    attempts = PredictionAttempt.objects.filter(
        prediction_id__in=list(ended), end_seen_at__isnull=False
    ).values_list("prediction_id", "end_seen_at")
    return [seen.timestamp() - ended[prediction_id][0] for prediction_id, seen in attempts]


def ideal_waits(*, durations, bulk_jobs, arrivals, slots=SLOTS):
    """B..'s waits if each slot went to the next job the instant its prediction ended.

    ``durations`` gives each admitted prediction's processing time in admission order (the
    engine's spread dice); A's jobs are all queued at 0 and fill the slots at once; a freed slot
    goes to the first arrived single job (fewest in flight: none), else to A's next one.
    """
    durations = iter(durations)
    bulk_left = max(0, bulk_jobs - slots)
    frees = [next(durations) if slot < bulk_jobs else 0.0 for slot in range(slots)]
    heapq.heapify(frees)
    pending, waits = list(arrivals), []
    while pending or bulk_left > 0:
        free_at = heapq.heappop(frees)
        if pending and (pending[0] <= free_at or bulk_left <= 0):
            start = max(free_at, pending[0])
            waits.append(start - pending.pop(0))
        else:
            start, bulk_left = free_at, bulk_left - 1
        heapq.heappush(frees, start + next(durations))
    return waits


def drawn_durations(T, spread, seed=0):
    """The processing times the engine draws, in admission order (its own dice, same seed)."""
    from offline_engine.protocol.predictions import SpreadDice

    dice = SpreadDice(seed)
    while True:
        yield T * dice.factor(spread)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processing-seconds", type=float, default=3.0)
    parser.add_argument("--bulk-jobs", type=int, default=20)
    parser.add_argument("--others", type=int, default=10, help="users after A, one job each")
    parser.add_argument("--spacing", type=float, default=None, help="seconds; default T/6")
    parser.add_argument(
        "--others-after", type=float, default=0.0, help="seconds from A's queue to B's submit"
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="the engine's processing_spread: each T drawn from [T(1-s), T(1+s)]",
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2, help="prefork processes per worker")
    parser.add_argument(
        "--webhooks",
        action="store_true",
        help="a web server on loopback receives the engine's webhooks (default: polling only)",
    )
    args = parser.parse_args(argv)
    T = args.processing_seconds
    if args.spacing is None:
        args.spacing = T / SLOTS
    if not 1 <= args.others <= 25:
        parser.error("--others: 1 to 25 (users B to Z)")
    if args.others_after < 0 or args.spacing < 0:
        parser.error("--others-after and --spacing: seconds, 0 or more")

    machine.ensure_bench_database()
    print(f"machine: {os.cpu_count()} cores, {machine.cpu_model()}")
    print(f"load average at start: {machine.load_average()}")
    media = tempfile.TemporaryDirectory(prefix="bench-fairness-media-")
    with machine.bench_engine(
        max_in_flight=SLOTS,
        processing_seconds=T,
        processing_spread=args.spread,
        run_limit=RUN_RATE[0],
        run_window_seconds=RUN_RATE[1],
    ) as engine:
        tag = f"bench-fairness-{os.getpid()}"
        os.environ.update(machine.bench_environment(tag=tag, media_root=media.name, engine=engine))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        machine.reset_job_tables()  # before the users: their old jobs' files are gone
        letters = string.ascii_uppercase[: args.others + 1]
        users = [machine.bench_owner(f"bench-fairness-{letter.lower()}") for letter in letters]
        selfie = machine.small_selfie_for_service()
        ended = machine.record_completions(engine)
        webhooks = machine.count_webhooks()
        elapsed, others_from = run(args, engine, media.name, users, selfie)
        stats = engine.stats()
        rows = per_user(users)
        late = ends_seen_late(ended)
    print(f"load average at end: {machine.load_average()}")

    spread = f" spread ±{args.spread:g} (seed 0)" if args.spread else " for every prediction"
    print(
        f"A queues {args.bulk_jobs} jobs, then {args.others} users submit one each, the first "
        f"{args.others_after:g} s after A's last, {args.spacing:.2f} s apart; {args.workers} "
        f"Celery worker process(es), prefork concurrency {args.concurrency}; engine "
        f"max_in_flight={SLOTS}, processing T={T:g} s{spread}, "
        f"{'webhooks (and polling)' if args.webhooks else 'polling only'}"
    )
    print()
    header = f"{'user':<6}{'jobs':>5}{'wait mean s':>13}{'wait max s':>12}{'total s':>9}  statuses"
    print(header)
    print("-" * len(header))
    for letter, row in zip(letters, rows, strict=True):
        waits = row["waits"] or [float("nan")]
        total = f"{row['total']:>9.2f}" if row["total"] is not None else f"{'-':>9}"
        statuses = ", ".join(f"{row['st'].count(s)} {s}" for s in sorted(set(row["st"])))
        print(
            f"{letter:<6}{row['jobs']:>5}{statistics.fmean(waits):>13.2f}{max(waits):>12.2f}"
            f"{total}  {statuses}"
        )
    print()
    other_waits = [wait for row in rows[1:] for wait in row["waits"]]
    if other_waits:
        print(
            f"B..: wait mean {statistics.fmean(other_waits):.2f} s (goal T/6 = {T / SLOTS:.2f} s), "
            f"max {max(other_waits):.2f} s (goal T = {T:g} s); A's total "
            f"{rows[0]['total'] or float('nan'):.2f} s; everything done in {elapsed:.2f} s "
            f"({args.bulk_jobs + args.others} jobs, {SLOTS} slots: at best "
            f"{-(-(args.bulk_jobs + args.others) // SLOTS) * T:g} s of processing)"
        )
    ideal = ideal_waits(
        durations=drawn_durations(T, args.spread),
        bulk_jobs=args.bulk_jobs,
        arrivals=[others_from + i * args.spacing for i in range(args.others)],
    )
    print(
        f"B.. had each slot been handed over the instant its prediction ended: wait mean "
        f"{statistics.fmean(ideal):.2f} s, max {max(ideal):.2f} s"
    )
    if late:
        print(
            f"ends seen by a status call after the engine's end: mean {statistics.fmean(late):.2f}"
            f" s, median {statistics.median(late):.2f} s, max {max(late):.2f} s"
        )
    print(
        f"engine: /v1/run calls {stats['run_calls']}, accepted {stats['runs_accepted']}, most in "
        f"flight {stats['max_in_flight_seen']}, refusals {stats.get('rejected') or 'none'}; "
        f"webhooks sent {webhooks['sent']}, delivered {webhooks['delivered']}"
    )
    media.cleanup()


if __name__ == "__main__":
    main()
