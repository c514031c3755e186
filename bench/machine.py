"""What the benchmarks share: the machine's description and their own PostgreSQL database."""

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

BENCH_DB_NAME = "avatar_studio_bench"
BENCH_DB_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB_NAME}"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def ensure_bench_database(name: str | None = None) -> None:
    """Create a benchmark's own database (``name``, by default the benchmarks' shared one) on
    the local PostgreSQL: never a developer's."""
    name = name or BENCH_DB_NAME
    listed = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SELECT datname FROM pg_database"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if name not in listed:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


# --- Multi-process pipeline benchmarks (saturation, tracking, latency) ------------------------

ROOT = Path(__file__).resolve().parent.parent


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_selfie() -> bytes:
    """scikit-image's astronaut, 512x512, as a JPEG: the selfie every pipeline bench uploads."""
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def small_selfie_for_service():
    """``small_selfie`` through the real intake, as ``services.create_avatar`` takes it."""
    from avatar_studio.avatars.images import normalise_selfie

    return normalise_selfie(io.BytesIO(small_selfie()), max_bytes=50 * 1024 * 1024)


def bench_owner(username):
    """A fresh owner for a bench's jobs: staff, because staff are exempt from the daily quota."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    users.filter(username=username).delete()
    return users.create_user(username, f"{username}@example.com", "bench-password", is_staff=True)


# The inputs of every job a pipeline bench creates (its seed is added per job).
JOB_INPUTS = {"prompt": "athletic build", "aspect_ratio": "2:3", "output_format": "jpeg"}


def canned_render():
    """An engine renderer that returns one prepared 576x864 picture instead of rendering.

    The engine stands in for FASHN's servers, which do not share our CPU; its real renderer
    (MediaPipe and drawing, hundreds of ms per avatar) would otherwise take CPU from the worker
    being measured on a 2-core machine. The outputs keep a realistic size and format.
    """
    from PIL import Image
    from skimage import data

    picture = Image.fromarray(data.astronaut()).resize((576, 864))
    encoded = {}
    for name, fmt in (("jpeg", "JPEG"), ("png", "PNG")):
        buffer = io.BytesIO()
        picture.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        encoded[name] = buffer.getvalue()

    def render(inputs):
        return [encoded[inputs.output_format]] * inputs.num_images

    return render


@contextmanager
def bench_engine(*, canned=True, keep_predictions=None, **overrides):
    """``running_engine`` with the canned renderer (and, if given, more ended predictions kept)."""
    from offline_engine import EngineApp, EngineConfig, EngineHandle, make_server
    from offline_engine.protocol import predictions

    if keep_predictions:
        predictions.MAX_KEPT_PREDICTIONS = keep_predictions
    app = EngineApp(EngineConfig().updated(overrides), render=canned_render() if canned else None)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield EngineHandle(server, app)
    finally:
        server.shutdown()
        server.server_close()
        app.close()
        thread.join(timeout=5)


def record_completions(engine) -> dict:
    """Wall-clock time (time.time()) at which the engine ended each prediction, by id.

    Wraps the prediction store's ``_finish`` in this process: the instant the engine's schedule
    (or the timer at the due time) turns a prediction ``completed``, before any webhook is sent.
    """
    store = engine.app.store
    ended = {}
    finish = store._finish

    def _finish(prediction):
        finish(prediction)
        ended[prediction.id] = (time.time(), prediction.status)

    store._finish = _finish
    return ended


def bench_environment(*, tag, media_root, engine, **extra) -> dict:
    """The environment of the bench process, its workers and its web server."""
    return {
        "DJANGO_SETTINGS_MODULE": "avatar_studio.settings",
        # A development stack on the offline engine, as `make run` starts it.
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "true"),
        "DATABASE_URL": BENCH_DB_URL,
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "REDIS_KEY_PREFIX": tag,
        "CELERY_QUEUE": tag,
        "MEDIA_ROOT": str(media_root),
        "FASHN_BASE_URL": engine.url,
        "ENGINE_API_KEY": engine.api_key,
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": "",
        **{name: str(value) for name, value in extra.items()},
    }


def _spawn(command, log_path, env):
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it until it exits
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return process


def start_worker(log_path, name, env, concurrency=2) -> subprocess.Popen:
    """A real Celery worker (prefork), as production runs it; then wait with worker_ready()."""
    command = [
        sys.executable, "-m", "celery", "-A", "avatar_studio", "worker",
        "--loglevel", "WARNING", "--concurrency", str(concurrency), "--pool", "prefork",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--hostname", f"{name}@%h",
    ]  # fmt: skip
    return _spawn(command, log_path, env)


def worker_ready(process, log_path, name, timeout=60.0) -> None:
    """Wait until the worker answers a control ping (needs django.setup() in this process)."""
    from avatar_studio import celery_app

    destination = [f"{name}@{socket.gethostname()}"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the worker exited:\n{Path(log_path).read_text()[-3000:]}")
        if celery_app.control.ping(destination=destination, timeout=0.5):
            return
    sys.exit(f"the worker did not answer within {timeout:.0f} s; see {log_path}")


def start_web(log_path, port, env) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:port with runstack's settings (2 processes, 4 threads each)."""
    command = [
        sys.executable, "-m", "gunicorn", "avatar_studio.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
    ]  # fmt: skip
    return _spawn(command, log_path, env)


def wait_for_http(url, process, log_path, timeout=60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the web server exited:\n{Path(log_path).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer within {timeout:.0f} s; see {log_path}")


def loopback_base_url() -> str:
    """A base URL on a free loopback port: ``PUBLIC_BASE_URL`` for a bench's web server."""
    return f"http://127.0.0.1:{free_port()}"


def start_web_ready(log_path, base_url, env) -> subprocess.Popen:
    """``start_web`` on ``base_url``'s port, once its ``/healthz`` answers: the engine's webhooks
    (``/fashn/webhook/<secret>/``) reach it when ``env`` has ``PUBLIC_BASE_URL=base_url``."""
    from urllib.parse import urlsplit

    process = start_web(log_path, urlsplit(base_url).port, env)
    wait_for_http(f"{base_url}/healthz", process, log_path)
    return process


def stop(process) -> None:
    """SIGTERM the child's process group (we started it in its own session), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class TreeCpu:
    """CPU seconds used by a process and all its descendants (psutil), for a worker's tree."""

    def __init__(self, pid):
        import psutil

        self.root = psutil.Process(pid)
        self._seen = {}  # pid -> last cpu seconds, so children that exit still count

    def seconds(self) -> float:
        import psutil

        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            self._seen[process.pid] = times.user + times.system
        return sum(self._seen.values())


def reset_job_tables() -> None:
    """Empty the bench database's job tables (after django.setup() and migrate)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE avatars_avatarresult, avatars_predictionattempt, avatars_sharelink, "
            "avatars_avatarjob CASCADE"
        )


def forget_redis_keys(tag) -> None:
    """Remove the limiter keys and the Celery queue of one run (Redis DB 14)."""
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/14")
    for key in client.scan_iter(f"*{tag}*"):
        client.delete(key)
    client.delete(tag)


def percentile(values, fraction) -> float:
    """The value at ``fraction`` (0..1) of the sorted values, nearest rank; nan when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def count_webhooks() -> dict:
    """Count the engine's webhook deliveries in this process: {"sent": n, "delivered": n}."""
    from offline_engine.protocol import webhooks

    counts = {"sent": 0, "delivered": 0}
    deliver = webhooks.deliver

    def counted(url, payload, **kwargs):
        counts["sent"] += 1
        ok = deliver(url, payload, **kwargs)
        counts["delivered"] += bool(ok)
        return ok

    webhooks.deliver = counted
    return counts


def completion_lags(ended, owner) -> list[float]:
    """Seconds from the engine ending each completed prediction to its job's ``finished_at``."""
    from avatar_studio.avatars.models import PredictionAttempt

    lags = []
    rows = PredictionAttempt.objects.filter(job__owner=owner, status="completed").values_list(
        "prediction_id", "job__finished_at"
    )
    for prediction_id, finished_at in rows:
        if prediction_id in ended and finished_at is not None:
            lags.append(finished_at.timestamp() - ended[prediction_id][0])
    return lags


def record_first_completed_status(engine) -> dict:
    """Wall-clock time of the first status read that found each prediction ended, by id.

    Wraps the prediction store's ``get`` (used by ``/v1/status``; output downloads come later).
    """
    store = engine.app.store
    seen = {}
    get = store.get

    def first_seen(prediction_id):
        prediction = get(prediction_id)
        if prediction is not None and prediction.status == "completed":
            seen.setdefault(prediction_id, time.time())
        return prediction

    store.get = first_seen
    return seen


def record_runs(engine) -> list:
    """Wall-clock times at which the engine admitted a prediction (its store's ``create``)."""
    store = engine.app.store
    admitted = []
    create = store.create

    def recorded(*args, **kwargs):
        prediction = create(*args, **kwargs)
        admitted.append(time.time())
        return prediction

    store.create = recorded
    return admitted


def refill_gaps(seen, admitted, slots) -> list[float]:
    """With a backlog, each ended prediction's slot is refilled by the next admitted one: the
    k-th completion seen pairs with admission number k + ``slots``. Seconds between them."""
    seen_times, admitted = sorted(seen), sorted(admitted)
    return [admitted[k + slots] - t for k, t in enumerate(seen_times) if k + slots < len(admitted)]
