"""The real web server, gunicorn, in a child process on the test database, Redis and media."""

import os
import subprocess
import sys
from pathlib import Path

import requests

from avatar_studio.core.localredis import free_port

from .waiting import wait_for
from .worker import BASE_DIR, database_url, stop_process_group


class Gunicorn:
    def __init__(self, env, log_path, *, workers=3, threads=8):
        self.env = env
        self.log_path = Path(log_path)
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        env = {**os.environ, **self.env, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"}
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "avatar_studio.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "60",
                "--backlog",
                "512",
                # Its default control socket is one path per machine: parallel servers clash.
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._ready, timeout=60, message="gunicorn to answer /healthz")
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited; see {self.log_path}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # still starting
            return False

    def stop(self):
        stop_process_group(self.process, timeout=15)
        self.log.close()
