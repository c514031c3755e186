"""The settings fail fast: production is the default, and what production needs is asked for at
start-up instead of being replaced by something that only works on a developer's machine.

Each case starts Python in a process of its own with an environment made here (not the test
run's, which has DEBUG on) and a developer's ``.env`` switched off, sets Django up and prints what
it got. Nothing connects anywhere: setting Django up opens no connection.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

# A developer's .env must not decide these cases: the settings' read_env() is made a no-op.
SETUP = (
    "import environ; environ.Env.read_env = lambda *args, **kwargs: None; "
    "import django; django.setup(); from django.conf import settings; "
)
SHOW = SETUP + (
    "import json; print(json.dumps({'debug': settings.DEBUG, "
    "'offline': settings.USING_OFFLINE_ENGINE, 'fashn_base_url': settings.FASHN_BASE_URL, "
    "'cache': settings.CACHES['default']}))"
)


def _start(tmp_path, code=SHOW, **variables):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "avatar_studio.settings",
        "DJANGO_SECRET_KEY": "settings-test-" + "s3cr3t-" * 8,
        "DJANGO_ALLOWED_HOSTS": "avatars.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AVATAR_STUDIO_VAR_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _started(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_fashn_key_or_the_offline_switch_production_does_not_start(tmp_path):
    result = _start(tmp_path)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert "FASHN_API_KEY is not set" in last_line
    assert "FASHN_OFFLINE_ENGINE=true" in last_line
    assert "avatar_studio/settings.py" in result.stderr  # at start-up, while reading the settings


def test_the_offline_switch_starts_production_on_the_offline_engine(tmp_path):
    got = _started(_start(tmp_path, FASHN_OFFLINE_ENGINE="true"))

    assert got["debug"] is False
    assert got["offline"] is True
    assert got["fashn_base_url"] == "http://127.0.0.1:8100"


def test_with_a_fashn_key_production_uses_the_fashn_cloud(tmp_path):
    got = _started(_start(tmp_path, FASHN_API_KEY="fa-live-key"))

    assert got["debug"] is False
    assert got["offline"] is False
    assert got["fashn_base_url"] == "https://api.fashn.ai"


def test_a_fashn_key_and_the_offline_switch_together_do_not_start(tmp_path):
    result = _start(tmp_path, FASHN_API_KEY="fa-live-key", FASHN_OFFLINE_ENGINE="true")

    assert result.returncode != 0
    assert "FASHN_API_KEY and FASHN_OFFLINE_ENGINE=true are both set" in result.stderr


def test_debug_is_off_unless_asked_for(tmp_path):
    assert _started(_start(tmp_path, FASHN_API_KEY="fa-live-key"))["debug"] is False
    assert _started(_start(tmp_path, DJANGO_DEBUG="true"))["debug"] is True


def test_production_without_a_secret_key_does_not_start(tmp_path):
    result = _start(tmp_path, FASHN_API_KEY="fa-live-key", DJANGO_SECRET_KEY=None)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_development_without_a_key_uses_the_offline_engine(tmp_path):
    got = _started(_start(tmp_path, DJANGO_DEBUG="true", DJANGO_SECRET_KEY=None))

    assert got["debug"] is True
    assert got["offline"] is True
    assert got["fashn_base_url"] == "http://127.0.0.1:8100"


def test_production_caches_in_redis_in_a_database_of_its_own(tmp_path):
    got = _started(
        _start(tmp_path, FASHN_API_KEY="fa-live-key", REDIS_URL="redis://127.0.0.1:6379/2")
    )

    assert got["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",  # the broker's database plus one
        "KEY_PREFIX": "avatar-studio",
    }


def test_cache_url_overrides_the_cache_and_development_keeps_one_per_process(tmp_path):
    production = _started(
        _start(tmp_path, FASHN_API_KEY="fa-live-key", CACHE_URL="redis://127.0.0.1:6379/9")
    )
    development = _started(_start(tmp_path, DJANGO_DEBUG="true"))

    assert production["cache"]["LOCATION"] == "redis://127.0.0.1:6379/9"
    assert production["cache"]["BACKEND"].endswith("RedisCache")
    assert development["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_redis_url_without_a_next_database_asks_for_cache_url(tmp_path):
    result = _start(tmp_path, FASHN_API_KEY="fa-live-key", REDIS_URL="redis://127.0.0.1:6379/15")

    assert result.returncode != 0
    assert "set CACHE_URL" in result.stderr


def test_the_web_process_sends_tasks_through_our_celery_app(tmp_path):
    # A @shared_task, as the app's tasks are, defined after Django is set up (as in a view).
    code = SETUP + (
        "from celery import shared_task\n"
        "@shared_task(name='settings-test.probe')\n"
        "def probe(): pass\n"
        "app = probe._get_current_object().app; print(app.main, app.conf.broker_url)"
    )
    result = _start(tmp_path, code=code, DJANGO_DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/7")

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["avatar_studio", "redis://127.0.0.1:6379/7"]
