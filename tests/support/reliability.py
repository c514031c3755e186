"""What every fault case checks at its end, and the record of it for docs/RELIABILITY.md.

``settle(jobs, engine)`` waits until every job is terminal, then checks the three promises of
issue 7 and returns an ``Outcome`` that says what was seen:

- every job ended (completed or failed) within its deadline (plus the sweeper's tick);
- no job was submitted twice: the engine's predictions are counted per job (each job has its own
  seed) and must equal the job's attempt rows; a job that failed with SubmissionUnconfirmed may
  have one prediction more, which is the request whose answer never arrived, never re-sent;
- no result was lost: every completed job has its images and thumbnails in storage, readable.

The fault suite writes each case's outcome to ``test-artifacts/reliability.json``;
``bench/reliability_table.py`` renders it into docs/RELIABILITY.md.
"""

import io
import json
import platform
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection
from django.utils import timezone
from PIL import Image

from avatar_studio.avatars.models import AvatarJob

from .jobs import make_job
from .waiting import wait_for

BASE_DIR = Path(__file__).resolve().parents[2]
ARTIFACT = BASE_DIR / "test-artifacts" / "reliability.json"
# A job that fails by deadline ends at the first sweep or poll after it.
DEADLINE_SLACK = timedelta(seconds=3)
UNCONFIRMED = "SubmissionUnconfirmed"


def make_jobs(owner, count=1, **inputs):
    """``count`` jobs, each with a seed of its own so the engine's predictions map to jobs."""
    return [make_job(owner, seed=random.randrange(1, 2**31), **inputs) for _ in range(count)]


@dataclass
class Outcome:
    statuses: dict
    run_calls: int
    runs_accepted: int
    attempts: int
    seconds_to_terminal: float
    problems: list = field(default_factory=list)

    def summary(self):
        statuses = ", ".join(f"{count} {name}" for name, count in sorted(self.statuses.items()))
        return (
            f"{statuses}; /v1/run {self.run_calls} ({self.runs_accepted} accepted); "
            f"attempts {self.attempts}; {self.seconds_to_terminal:.1f} s"
        )


def status_label(job):
    return "completed" if job.status == "completed" else f"failed {job.error_name}"


def settle(jobs, engine, *, timeout=45.0, linger=0.3):
    """Wait for every job to end, check the promises, and return what was seen.

    Waiting too long is itself a problem (a stuck job) and fails the test. ``linger`` is how long
    to leave a late or killed step to do what it should not (submit again, delete a result)
    before looking.
    """
    ids = [job.pk for job in jobs]

    def all_terminal():
        fresh = list(AvatarJob.objects.filter(pk__in=ids))
        return fresh if all(job.is_terminal for job in fresh) else None

    fresh = wait_for(all_terminal, timeout=timeout, message=f"{len(ids)} job(s) to end")
    # Seen from here, not the jobs' finished_at: that is stamped before a write that may wait.
    seen_at = timezone.now()
    time.sleep(linger)
    fresh = list(AvatarJob.objects.filter(pk__in=ids).prefetch_related("attempts"))
    stats = engine.stats()
    seeds = Counter()
    for prediction_id in stats["predictions"]:
        prediction = engine.app.store.get(prediction_id)
        if prediction is not None:
            seeds[prediction.inputs.seed] += 1

    problems = []
    for job in fresh:
        if not job.is_terminal:
            problems.append(f"job {job.pk} is {job.status} after it was seen terminal")
            continue
        if job.finished_at is None or job.finished_at > job.deadline_at + DEADLINE_SLACK:
            problems.append(f"job {job.pk} ended at {job.finished_at}, after its deadline")
        attempts = list(job.attempts.all())
        extra = 1 if job.error_name == UNCONFIRMED else 0
        if not len(attempts) <= seeds[job.seed] <= len(attempts) + extra:
            problems.append(
                f"job {job.pk}: {seeds[job.seed]} prediction(s) at the engine, "
                f"{len(attempts)} attempt(s) recorded ({status_label(job)})"
            )
        unknown = [a.prediction_id for a in attempts if a.prediction_id not in stats["predictions"]]
        if unknown:
            problems.append(f"job {job.pk}: attempts for unknown predictions {unknown}")
        if job.status == "completed":
            problems += _check_results(job)
    seconds = max(seen_at - job.created_at for job in fresh)
    return Outcome(
        statuses=dict(Counter(status_label(job) for job in fresh)),
        run_calls=stats["run_calls"],
        runs_accepted=stats["runs_accepted"],
        attempts=sum(len(job.attempts.all()) for job in fresh),
        seconds_to_terminal=seconds.total_seconds(),
        problems=problems,
    )


def expect_outcome(case, jobs, engine, *, statuses, runs_accepted=None, timeout=45.0, linger=0.3):
    """Settle the jobs, record what was seen on ``case``, and check it against ``statuses``."""
    outcome = settle(jobs, engine, timeout=timeout, linger=linger)
    case.outcome = asdict(outcome)
    case.observed = outcome.summary()
    if outcome.problems:
        case.observed += "; PROBLEMS: " + "; ".join(outcome.problems)
    assert not outcome.problems, "; ".join(outcome.problems)
    # ``statuses`` is the one outcome expected, or a list of outcomes that are all acceptable.
    acceptable = statuses if isinstance(statuses, list) else [statuses]
    assert outcome.statuses in acceptable, f"{outcome.statuses} not in {acceptable}"
    if runs_accepted is not None:
        assert outcome.runs_accepted == runs_accepted, f"{outcome.runs_accepted} predictions"
    return outcome


def _check_results(job):
    try:
        results = list(job.results.all())
    except FileNotFoundError as error:  # the result rows read their image's size on load
        return [f"job {job.pk}: a stored result is missing: {error}"]
    if not results:
        return [f"job {job.pk} completed without a stored result"]
    problems = []
    for result in results:
        for name, field_file in (("image", result.image), ("thumbnail", result.thumbnail)):
            try:
                with field_file.open("rb") as handle:
                    data = handle.read()
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
            except Exception as error:  # noqa: BLE001 - any failure here is a lost result
                problems.append(f"job {job.pk}: {name} {field_file.name} unreadable: {error!r}")
    return problems


# --- The record -------------------------------------------------------------------------------


@dataclass
class Case:
    section: str
    fault: str
    action: str
    expected: str
    test: str = ""
    observed: str = ""
    outcome: dict | None = None
    result: str = "not run"


class ReliabilityLog:
    """Cases collected during one run, written to ARTIFACT (keyed by database backend)."""

    def __init__(self):
        self.cases = []
        self.started = time.monotonic()

    def add(self, case):
        self.cases.append(case)

    def write(self, path=ARTIFACT):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        runs = data.setdefault("runs", {})
        backend = connection.vendor  # "sqlite" or "postgresql"
        runs[backend] = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - self.started, 1),
            "python": platform.python_version(),
            "passed": sum(case.result == "passed" for case in self.cases),
            "failed": sum(case.result == "failed" for case in self.cases),
            "cases": [asdict(case) for case in self.cases],
        }
        path.write_text(json.dumps(data, indent=2) + "\n")
