"""What the status page shows of a job: its steps, a progress figure and the elapsed time."""

from dataclasses import dataclass

from .models import JobStatus

STEP_LABELS = ["Queued", "Submitted", "In queue", "Processing"]

# Where each status sits among the steps, and roughly how far along the job is.
_STEP_OF_STATUS = {
    JobStatus.QUEUED: 0,
    JobStatus.SUBMITTING: 0,
    JobStatus.SUBMITTED: 1,
    JobStatus.IN_QUEUE: 2,
    JobStatus.PROCESSING: 3,
}
_PERCENT_OF_STATUS = {
    JobStatus.QUEUED: 5,
    JobStatus.SUBMITTING: 10,
    JobStatus.SUBMITTED: 25,
    JobStatus.IN_QUEUE: 40,
    JobStatus.PROCESSING: 60,
}
# FASHN quotes about 12 s of processing; the bar creeps towards 95 % over that time.
EXPECTED_PROCESSING_SECONDS = 12.0


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # "done", "current", "todo" or "failed"


@dataclass(frozen=True)
class Progress:
    steps: list
    percent: int
    elapsed_seconds: int
    is_active: bool

    @property
    def step_label(self):
        for step in self.steps:
            if step.state in ("current", "failed"):
                return step.label
        return self.steps[-1].label

    @property
    def elapsed_text(self):
        minutes, seconds = divmod(self.elapsed_seconds, 60)
        return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"

    @property
    def elapsed_phrase(self):
        """The elapsed time in words: how long a finished job took (from upload to its end, so
        it stays put), or how long a running one has taken so far."""
        if self.is_active:
            return f"{self.elapsed_text} so far"
        # The offline engine can finish within the second: "0 s" would read as "not measured".
        return f"Took {self.elapsed_text}" if self.elapsed_seconds else "Took under 1 s"


def job_progress(job, now):
    end = job.finished_at or now
    elapsed = max(0, int((end - job.created_at).total_seconds()))
    if job.status == JobStatus.COMPLETED:
        steps = [Step(label, "done") for label in [*STEP_LABELS, "Completed"]]
        return Progress(steps, 100, elapsed, is_active=False)
    if job.status == JobStatus.FAILED:
        # How far it got: a job with a prediction reached FASHN; one without never left us.
        reached = 3 if job.submitted_at else 0
        steps = [Step(label, "done") for label in STEP_LABELS[:reached]]
        steps.append(Step(STEP_LABELS[reached], "failed"))
        steps += [Step(label, "todo") for label in STEP_LABELS[reached + 1 :]]
        return Progress([*steps, Step("Failed", "failed")], 100, elapsed, is_active=False)

    current = _STEP_OF_STATUS[job.status]
    steps = [
        Step(label, "done" if index < current else "current" if index == current else "todo")
        for index, label in enumerate(STEP_LABELS)
    ]
    steps.append(Step("Completed", "todo"))
    percent = _PERCENT_OF_STATUS[job.status]
    if job.status == JobStatus.PROCESSING and job.submitted_at:
        running = (now - job.submitted_at).total_seconds()
        percent += int(35 * min(1.0, running / EXPECTED_PROCESSING_SECONDS))
    return Progress(steps, percent, elapsed, is_active=True)
