"""Celery tasks: thin wrappers that take ids and call the pipeline.

A task never sleeps and never retries itself: the pipeline schedules the next step with a
countdown, and the sweeper re-issues any step whose message was lost.
"""

import logging

from celery import shared_task

from . import pipeline

logger = logging.getLogger(__name__)


@shared_task(name="avatars.submit_job")
def submit_job(job_id, token):
    pipeline.submit_job(job_id, token)


@shared_task(name="avatars.poll_job")
def poll_job(job_id, token):
    pipeline.poll_job(job_id, token)


@shared_task(name="avatars.sweep_overdue_jobs", ignore_result=True)
def sweep_overdue_jobs():
    counts = pipeline.sweep_overdue_jobs()
    if any(counts.values()):
        logger.warning("sweeper: %s", counts)
    return counts
