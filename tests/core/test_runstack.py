"""`make run`'s stack: every process starts, an avatar is made through it, Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from avatar_studio import celery_app
from avatar_studio.core.localredis import answers, free_port, start_embedded_redis

from ..support.faces import astronaut_jpeg
from ..support.waiting import wait_for

BASE_DIR = Path(__file__).resolve().parents[2]


def test_the_embedded_redis_starts_when_none_is_configured():
    process, url = start_embedded_redis()
    try:
        assert url.startswith("redis://127.0.0.1:")
        assert answers(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert not answers(url, timeout=0.2)


def test_runstack_serves_the_whole_product_and_stops_on_ctrl_c(tmp_path, redis_url, settings):
    web_port, engine_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AVATAR_STUDIO_VAR_DIR": str(tmp_path),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "CELERY_QUEUE": celery_app.conf.task_default_queue,
        "OFFLINE_ENGINE_PORT": str(engine_port),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FASHN_API_KEY", None)
    env.pop("FASHN_BASE_URL", None)
    log_path = tmp_path / "runstack.log"
    with open(log_path, "wb") as log:
        stack = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(web_port)],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: b"Press Ctrl-C" in log_path.read_bytes() or stack.poll() is not None,
            timeout=90,
            message="the stack to start",
        )
        output = log_path.read_text()
        assert f"Avatar Studio is running at http://127.0.0.1:{web_port}" in output
        assert f"\nFASHN_BASE_URL=http://127.0.0.1:{engine_port}\n" in output
        assert "\nFASHN_API_KEY=fashn-offline-key\n" in output
        children = psutil.Process(stack.pid).children()
        assert len(children) == 4  # engine, web, worker, beat

        status = _make_an_avatar(f"http://127.0.0.1:{web_port}")
        assert status["status"] == "completed", status

        # A worker that dies (Celery's does when Redis restarts under it) is started again.
        worker = next(c for c in children if "worker" in c.cmdline())
        worker_group = os.getpgid(worker.pid)
        os.killpg(worker_group, signal.SIGKILL)
        wait_for(
            lambda: b"worker exited with code -9; starting it again" in log_path.read_bytes(),
            timeout=15,
            message="runstack to restart the worker",
        )
        children = psutil.Process(stack.pid).children()
        assert len(children) == 4 and worker.pid not in [c.pid for c in children]
        status = _make_an_avatar(f"http://127.0.0.1:{web_port}")
        assert status["status"] == "completed", status
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def _make_an_avatar(base):
    session = requests.Session()
    session.get(f"{base}/accounts/login/")
    session.post(
        f"{base}/accounts/login/",
        data={
            "username": "demo",
            "password": "avatar-demo",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
    )
    session.get(f"{base}/")
    response = session.post(
        f"{base}/",
        data={
            "prompt": "slender frame",
            "aspect_ratio": "1:1",
            "seed": "1",
            "output_format": "jpeg",
            "consent": "on",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        files={"face_image": ("me.jpg", astronaut_jpeg(), "image/jpeg")},
    )
    assert "/avatars/" in response.url, response.text[:500]
    status_url = f"{response.url}status/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = session.get(status_url).json()
        if status["status"] in ("completed", "failed"):
            return status
        time.sleep(0.25)
    return status
