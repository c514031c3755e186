"""The avatar pipeline: from a queued job to stored images, one FASHN request per step.

- ``transitions``: the job state machine; every status change is a compare-and-swap here.
- ``steps``: submit, poll and sweep, each making at most one FASHN request.
- ``tasks``: the thin Celery tasks that run the steps.
- ``cadence``: every wait (first poll, next poll, retry backoff), with its jitter.
- ``limits``: the FASHN account's limits in Redis, shared by all workers.
- ``outputs``: copying a prediction's outputs into our storage.
- ``fashn_webhooks``: FASHN's calls that bring a waiting poll forward.
- ``failures``: what each failure tells the owner.
- ``signals``: ``job_finished``, for the apps that react to a job's end.
"""
