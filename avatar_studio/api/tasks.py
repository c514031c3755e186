"""Celery tasks of the API: thin wrappers around ``api.deliveries``.

A task never sleeps and never retries itself: a failed attempt schedules the next one with a
countdown, and ``sweep_webhook_deliveries`` sends again any delivery whose message was lost.
"""

import logging

from celery import shared_task

from . import deliveries

logger = logging.getLogger(__name__)


@shared_task(name=deliveries.DELIVER_TASK, ignore_result=True)
def deliver_webhook(delivery_id, token):
    deliveries.attempt(delivery_id, token)


@shared_task(name="api.sweep_webhook_deliveries", ignore_result=True)
def sweep_webhook_deliveries():
    count = deliveries.sweep()
    if count:
        logger.warning("webhook sweeper: sent %s overdue deliveries again", count)
    return count
