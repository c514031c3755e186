"""Celery tasks: thin wrappers that take ids and call the pipeline's steps.

A task never sleeps and never retries itself: the pipeline schedules the next step with a
countdown, and the sweeper re-issues any step whose message was lost.
"""

import logging

from celery import Task, shared_task
from kombu.exceptions import OperationalError

from . import steps
from .transitions import STEP_POLL, STEP_SUBMIT, STEP_TASKS

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


@shared_task(base=StepTask, name=STEP_TASKS[STEP_SUBMIT])
def submit_job(job_id, token):
    steps.submit_job(job_id, token)


@shared_task(base=StepTask, name=STEP_TASKS[STEP_POLL])
def poll_job(job_id, token):
    steps.poll_job(job_id, token)


@shared_task(name="avatars.sweep_overdue_jobs", ignore_result=True)
def sweep_overdue_jobs():
    counts = steps.sweep_overdue_jobs()
    if any(counts.values()):
        logger.warning("sweeper: %s", counts)
    return counts
