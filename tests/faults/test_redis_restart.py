"""Redis restarted with jobs in flight: a private redis-server, keeping nothing on disk, is
killed and started again empty. Queued and scheduled messages, the FASHN limiter's slots and rate
windows are all gone; the sweeper re-issues every step that was lost.

The worker runs under a supervisor, as in production: a Celery worker holding unacknowledged
messages when Redis goes away can exit (kombu's channel close raises AttributeError from
``restore_unacked``, celery/celery#10205), and its process manager must start it again.
"""

import time

import pytest

from avatar_studio import celery_app
from avatar_studio.avatars.models import PredictionAttempt
from avatar_studio.avatars.pipeline.limits import fashn_limits
from avatar_studio.core.localredis import answers

from ..support.processes import CeleryBeat, PrivateRedis, Supervisor
from ..support.reliability import expect_outcome, make_jobs
from ..support.waiting import wait_for
from ..support.worker import CeleryWorker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTION = "Redis restarted"


def _use_broker(url):
    celery_app.conf.broker_url = url
    # Forget pooled connections to the previous broker.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def redis_stack(fault_env, django_db_setup, tmp_path_factory):
    """A Redis of this module's own, with a supervised worker and a beat on it."""
    server = PrivateRedis().start()
    env = {**fault_env, "REDIS_URL": server.url, "CELERY_BROKER_URL": server.url}
    workdir = tmp_path_factory.mktemp("redis-stack")
    private_beat = CeleryBeat(env, workdir / "beat").start()
    supervisor = Supervisor(lambda: CeleryWorker(env, workdir / "worker.log").start())
    yield server, supervisor
    supervisor.stop()
    private_beat.stop()
    server.stop()


@pytest.fixture
def private_redis(redis_stack, settings, transactional_db):
    """The test process on the private Redis too. Yields (server, supervisor)."""
    server, supervisor = redis_stack
    previous = celery_app.conf.broker_url
    settings.REDIS_URL = settings.CELERY_BROKER_URL = server.url
    _use_broker(server.url)
    supervisor.exit_codes.clear()
    yield server, supervisor
    _use_broker(previous)


def _note_restarts(item, supervisor):
    if supervisor.exit_codes:
        codes = ", ".join(str(code) for code in supervisor.exit_codes)
        item.observed += f"; the worker exited (code {codes}) and was restarted by its supervisor"


def test_redis_restarted_with_jobs_in_flight(private_redis, engine, alice, case):
    item = case(
        SECTION,
        "redis-server SIGKILLed and started again empty, 1 s later",
        "4 jobs submitted and being polled (predictions take 2 s)",
        "all complete; 4 /v1/run calls, 4 attempts",
    )
    server, supervisor = private_redis
    engine.configure(processing_seconds=2)
    jobs = make_jobs(alice, 4)
    wait_for(lambda: _saved(jobs) == 4, timeout=20, message="4 prediction ids saved")
    slots = fashn_limits().in_flight
    assert slots.holders()  # slots in use: state the crash takes away, with the queued polls
    server.crash()
    assert not answers(server.url)
    time.sleep(1.0)
    server.start()

    try:
        outcome = expect_outcome(item, jobs, engine, statuses={"completed": 4}, runs_accepted=4)
    finally:
        _note_restarts(item, supervisor)
    assert outcome.attempts == 4


def test_an_upload_while_redis_is_down(private_redis, engine, alice, case):
    item = case(
        SECTION,
        "a job created while Redis is down (its submit message cannot be sent)",
        "1 job created during a 2 s outage",
        "the upload succeeds; the job completes once Redis is back; 1 /v1/run call",
    )
    server, supervisor = private_redis
    server.crash()
    assert not answers(server.url)
    try:
        jobs = make_jobs(alice)
    finally:
        time.sleep(1.0)
        server.start()

    try:
        expect_outcome(item, jobs, engine, statuses={"completed": 1}, runs_accepted=1)
    finally:
        _note_restarts(item, supervisor)


def _saved(jobs):
    return PredictionAttempt.objects.filter(job__in=jobs).count()
