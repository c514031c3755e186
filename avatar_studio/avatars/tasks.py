"""Celery tasks: thin wrappers that take ids and call the pipeline.

A task never sleeps and never retries itself: the pipeline schedules the next step with a
countdown, and the sweeper re-issues any step whose message was lost.
"""

import logging

from celery import Task, shared_task
from kombu.exceptions import OperationalError

from . import pipeline

logger = logging.getLogger(__name__)


class StepTask(Task):
    """A pipeline step. Its token and due time are in the database before it is sent, so a send
    that fails because the broker is down loses nothing: the sweeper sends the step again once
    it is overdue. The caller (an upload, the step before) must not fail because of it."""

    def apply_async(self, *args, **kwargs):
        try:
            return super().apply_async(*args, **kwargs)
        except OperationalError as error:
            logger.warning("%s not sent, the sweeper will send it again: %r", self.name, error)
            return None


@shared_task(base=StepTask, name="avatars.submit_job")
def submit_job(job_id, token):
    pipeline.submit_job(job_id, token)


@shared_task(base=StepTask, name="avatars.poll_job")
def poll_job(job_id, token):
    pipeline.poll_job(job_id, token)


@shared_task(name="avatars.sweep_overdue_jobs", ignore_result=True)
def sweep_overdue_jobs():
    counts = pipeline.sweep_overdue_jobs()
    if any(counts.values()):
        logger.warning("sweeper: %s", counts)
    return counts
