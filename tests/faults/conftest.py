"""The fault suite's fixtures: one Celery worker and one beat shared where a case allows it, the
reliability record, and the outcome check every case ends with.

Cases run real jobs through real Celery workers against the offline engine over HTTP; beat sends
the sweeper every second, as production's beat does every 15 s.
"""

import pytest

from ..conftest import FAST_PIPELINE, RUN_ID
from ..support.processes import CeleryBeat
from ..support.reliability import Case, ReliabilityLog
from ..support.worker import CeleryWorker

SWEEP_INTERVAL_SECONDS = 1.0
# Long enough for every fault to play out, short enough that a stuck job shows within a test.
JOB_DEADLINE_SECONDS = 40.0


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def fault_media(tmp_path_factory):
    return tmp_path_factory.mktemp("fault-media")


@pytest.fixture(autouse=True)
def media_root(settings, fault_media):
    """One media folder for the whole suite, so that one worker can serve many cases."""
    settings.MEDIA_ROOT = fault_media
    return fault_media


@pytest.fixture(autouse=True)
def fault_settings(settings, fast_pipeline):
    settings.AVATAR_JOB_DEADLINE_SECONDS = JOB_DEADLINE_SECONDS


@pytest.fixture(scope="session")
def fault_env(engine_server, redis_url, fault_media):
    """Environment for the suite's workers and beat (the test process has the same values)."""
    from django.conf import settings

    return {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "CELERY_QUEUE": RUN_ID,
        "MEDIA_ROOT": str(fault_media),
        "FASHN_BASE_URL": engine_server.url,
        "ENGINE_API_KEY": engine_server.api_key,
        "FASHN_MAX_IN_FLIGHT": str(settings.FASHN_MAX_IN_FLIGHT),
        "AVATAR_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_SECONDS),
        **{name: str(value) for name, value in FAST_PIPELINE.items()},
    }


@pytest.fixture(scope="package")
def beat(fault_env, django_db_setup, tmp_path_factory):
    """Celery beat, sending the sweeper every second while this suite runs (and only then: the
    tests after it in a full run count the sweeper's work themselves)."""
    process = CeleryBeat(fault_env, tmp_path_factory.mktemp("beat")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def shared_worker(fault_env, beat, django_db_setup, tmp_path_factory):
    """One worker for every case of a module that does not kill or cut anything."""
    worker = CeleryWorker(fault_env, tmp_path_factory.mktemp("worker") / "worker.log").start()
    yield worker
    worker.stop()


@pytest.fixture
def spawn_worker(fault_env, beat, transactional_db, tmp_path):
    """Workers of the test's own (to be killed); whatever is left is stopped at the end."""
    workers = []

    def start(**kwargs):
        env = {**fault_env, **kwargs.pop("env", {})}
        worker = CeleryWorker(env, tmp_path / "worker.log", **kwargs).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="session")
def reliability_log():
    log = ReliabilityLog()
    yield log
    if log.cases:
        log.write()


@pytest.fixture
def case(request, reliability_log):
    """Describe the case; its observed outcome and pass/fail are recorded after the test."""
    created = []

    def describe(section, fault, action, expected):
        item = Case(section=section, fault=fault, action=action, expected=expected)
        item.test = request.node.nodeid.split("::", 1)[-1]
        created.append(item)
        reliability_log.add(item)
        return item

    yield describe
    report = getattr(request.node, "report_call", None)
    for item in created:
        item.result = report.outcome if report else "error"
        if report and report.failed and not item.observed:
            crash = getattr(report.longrepr, "reprcrash", None)
            item.observed = (crash.message if crash else str(report.longrepr))[:300]
