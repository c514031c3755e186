"""A real Celery worker in a child process, on the test Redis and the test database."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.db import connection

from .waiting import wait_for

BASE_DIR = Path(__file__).resolve().parents[2]


def database_url():
    """A DATABASE_URL for the test database this test process is using."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] or ""
    if db["PASSWORD"]:
        credentials += f":{db['PASSWORD']}"
    host = f"{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{host}/{db['NAME']}"


def stop_process_group(process, timeout=15):
    """SIGTERM a child started in a session of its own, and its children; SIGKILL if it lingers.

    Returns True if it was still running."""
    if process is None or process.poll() is not None:
        return False
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    return True


class CeleryWorker:
    def __init__(self, env, log_path, *, database_url=None):
        self.env = env
        self.log_path = log_path
        self.database_url = database_url  # default: the test database, directly
        self.process = None

    def start(self):
        env = {
            **os.environ,
            **self.env,
            "DATABASE_URL": self.database_url or database_url(),
            "PYTHONUNBUFFERED": "1",
        }
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.log_offset = self.log.tell()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "avatar_studio",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"test-{os.getpid()}-{id(self)}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._ready, timeout=30, message="the Celery worker to be ready")
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited; see {self.log_path}")
        return b" ready." in Path(self.log_path).read_bytes()[self.log_offset :]

    def kill(self):
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self):
        if stop_process_group(self.process, timeout=15):
            self.log.close()
