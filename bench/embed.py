"""Embedded button benchmark: click "See it on me" -> the look's panel says the try-on completed.

    .venv/bin/python bench/embed.py [--clicks 20] [--poll 0.25] [--modes polling,webhooks]

The real parts on loopback, as the other pipeline benches start them: the benchmarks' own
PostgreSQL database, Redis DB 14 under this run's own prefix and queue, one real Celery worker
process (prefork, concurrency 2), the offline engine with its real renderer (try-on and avatar),
and the web app on a threaded WSGI server in this process. Two modes, one after the other, each
with its own worker and a fresh avatar: ``polling`` (no webhooks: the poll cadence) and
``webhooks`` (``PUBLIC_BASE_URL`` = the web server, as ``runstack`` sets it on the offline
engine: the engine's webhook brings the worker's poll forward). The web server runs in this process
because the garment fetcher's policy is injected here, as tests/embed does: a made-up public host
name (``images.test``) resolves to 127.0.0.1 and only 127.0.0.1 may be connected to, so nothing
leaves loopback. The garment pictures come from a tiny HTTPS stand-in on loopback (the fetcher
takes https only) with a self-signed certificate only that policy trusts.

A shopper (staff: no daily quota) logs in through the login page and gets one completed avatar
through the worker and the engine. A ``embed.Shop`` is registered for ``https://shop.example``.
Each click is the POST the window sends (avatar, consent, CSRF token) on its own garment picture
(a tee in its own colour, so the try-on cache never answers); then the look's panel URL is polled
every ``--poll`` seconds (the window's htmx asks every second) until it first says ``completed``.

- **click -> result**: from sending the POST to the first panel answer saying completed;
- **POST**: the POST's own time (garment fetched, normalised, stored, job queued; redirect);
- **engine**: the engine's own span for that try-on, from admitting the run (its store's
  ``create``) to ending it (its store's ``_finish``): the rendering;
- **end -> worker sees it**: to the first ``/v1/status`` answer saying completed (store's ``get``);
- **seen -> panel**: storing the result, then the panel's next answer.
"""

from __future__ import annotations

import argparse
import http.server
import io
import os
import re
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import machine  # noqa: E402  (bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHOP_ORIGIN = "https://shop.example"
GARMENT_HOST = "images.test"


def garment_picture(index):
    """A shop's product photo: a tee on a transparent background, in colour number ``index``."""
    from PIL import Image, ImageDraw

    from tests.embed.garmenthost import _TEE

    width, height = 300, 375
    colour = (40 + (index * 37) % 200, 120 - (index * 11) % 100, 80 + (index * 53) % 170, 255)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).polygon([(x * width, y * height) for x, y in _TEE], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class _GarmentHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        match = re.fullmatch(r"/tee-(\d+)\.png", self.path)
        body = garment_picture(int(match.group(1))) if match else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_garment_host(folder):
    """The shop's image host: https on 127.0.0.1, certificate for images.test (tests' helper)."""
    from tests.api.imagehost import make_certificate

    cert, key = make_certificate(Path(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GarmentHandler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, str(cert)


def loopback_only_policy(ca_file):
    """The fetcher's rules, except that images.test resolves to loopback and only loopback may be
    connected to (as tests/embed/conftest.py injects it)."""
    import ipaddress
    import socket

    from avatar_studio.api import fetch

    def resolve(host, port):
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        if host != GARMENT_HOST:
            raise socket.gaierror(f"unknown host {host}")
        return ["127.0.0.1"]

    policy = fetch.FetchPolicy(
        max_bytes=1024 * 1024,
        timeout=5,
        resolve=resolve,
        address_allowed=lambda address: address == "127.0.0.1",
        ca_certs=ca_file,
    )
    fetch.default_policy = lambda: policy
    return policy


def start_web_here(port):
    """The Django app on a threaded WSGI server on loopback, in this process (see the docstring)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = WSGIServer(("127.0.0.1", port), QuietHandler, ipv6=False, allow_reuse_address=True)
    server.daemon_threads = True
    server.set_app(WSGIHandler())
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    ).start()
    return server


def record_admissions(engine) -> dict:
    """Wall-clock time (time.time()) at which the engine admitted each prediction, by id."""
    store = engine.app.store
    admitted = {}
    create = store.create

    def recorded(*args, **kwargs):
        prediction = create(*args, **kwargs)
        admitted[prediction.id] = time.time()
        return prediction

    store.create = recorded
    return admitted


def csrf_token(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def log_in(session, base, username, password):
    page = session.get(f"{base}/accounts/login/", timeout=10)
    page.raise_for_status()
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": csrf_token(page.text),
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    if "sessionid" not in session.cookies:
        sys.exit(f"could not log in: HTTP {response.status_code}\n{response.text[:2000]}")


def wait_for_avatar(owner, timeout):
    from avatar_studio.avatars.models import AvatarJob, JobStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = AvatarJob.objects.filter(owner=owner).first()
        if job and job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
            if job.status == JobStatus.FAILED:
                sys.exit(f"the shopper's avatar failed: {job.error_message}")
            return job
        time.sleep(0.25)
    sys.exit(f"the shopper's avatar did not complete within {timeout:.0f} s")


def click(session, base, shop, avatar_result_id, index, poll, timeout):
    """One click: (seconds click -> completed, seconds of the POST, status seen, prediction id,
    wall-clock time of the click)."""
    from avatar_studio.embed.models import EmbedLook

    window = f"{base}/embed/try/?" + urlencode(
        {
            "key": shop.key,
            "origin": SHOP_ORIGIN,
            "garment_image": f"https://{GARMENT_HOST}:{GARMENT_PORT}/tee-{index}.png",
            "name": f"Tee {index}",
            "category": "tops",
        }
    )
    page = session.get(window, timeout=10)  # the window opens (not timed): its form and token
    if page.status_code != 200 or 'name="consent"' not in page.text:
        sys.exit(
            f"the window did not offer the choice: HTTP {page.status_code}\n{page.text[:2000]}"
        )
    data = {
        "avatar": avatar_result_id,
        "consent": "yes",
        "csrfmiddlewaretoken": csrf_token(page.text),
    }
    clicked = time.time()
    started = time.perf_counter()
    response = session.post(
        window, data=data, headers={"Referer": window}, allow_redirects=False, timeout=30
    )
    posted = time.perf_counter() - started
    if response.status_code != 302:
        sys.exit(f"the click was not accepted: HTTP {response.status_code}\n{response.text[:2000]}")
    look_url = response.headers["Location"]
    panel = f"{base}{look_url.rstrip('/')}/panel/"
    session.get(f"{base}{look_url}", timeout=10)  # the look page the window lands on
    status = ""
    while time.perf_counter() - started < timeout:
        answer = session.get(panel, timeout=10)
        status = re.search(r'data-status="([^"]+)"', answer.text).group(1)
        if status in ("completed", "failed"):
            break
        time.sleep(poll)
    elapsed = time.perf_counter() - started
    embed_id = look_url.rstrip("/").rsplit("/", 1)[-1]
    job = EmbedLook.objects.select_related("look__tryon__job").get(pk=embed_id).look.tryon.job
    prediction = job.attempts.filter(status="completed").values_list("prediction_id", flat=True)
    return elapsed, posted, status, next(iter(prediction), None), clicked


GARMENT_PORT = 0


MODES = ("polling", "webhooks")


def run_mode(mode, args, engine, media_root, base, shop, times, webhooks):
    """Start a worker for ``mode``, give the shopper a fresh avatar, click ``--clicks`` times."""
    import requests

    from avatar_studio import celery_app
    from avatar_studio.avatars import services

    machine.reset_job_tables()
    webhooks.update(sent=0, delivered=0)
    tag = f"bench-embed-{os.getpid()}-{mode}"
    env = machine.bench_environment(
        tag=tag,
        media_root=media_root,
        engine=engine,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        PUBLIC_BASE_URL=base if mode == "webhooks" else "",
    )
    celery_app.conf.task_default_queue = tag
    log = Path(media_root) / f"worker-{mode}.log"
    worker = None
    rows = []
    try:
        worker = machine.start_worker(log, tag, env)
        machine.worker_ready(worker, log, tag)
        shopper = machine.bench_owner("bench-embed")
        services.create_avatar(
            owner=shopper,
            selfie=machine.small_selfie_for_service(),
            inputs={**machine.JOB_INPUTS, "seed": 1},
        )
        avatar_result = wait_for_avatar(shopper, args.timeout).avatar_result
        session = requests.Session()
        log_in(session, base, "bench-embed", "bench-password")
        for index in range(args.clicks):
            picture = index + (0 if mode == MODES[0] else args.clicks)
            rows.append(
                click(session, base, shop, avatar_result.pk, picture, args.poll, args.timeout)
            )
    finally:
        machine.stop(worker)
        machine.forget_redis_keys(tag)
    lines = report(mode, rows, times)
    lines[0] += f"; engine webhooks sent {webhooks['sent']}, delivered {webhooks['delivered']}"
    return lines


def report(mode, rows, times):
    """The mode's table lines: click -> result and its parts, by the engine's own timestamps."""
    admitted, ended, seen = times
    done = [r for r in rows if r[2] == "completed"]
    timed = [r for r in done if r[3] in admitted and r[3] in ended and r[3] in seen]
    parts = (
        ("click -> result", [r[0] for r in done]),
        ("  click -> engine admits", [admitted[r[3]] - r[4] for r in timed]),
        ("    of which the POST", [r[1] for r in done]),
        ("  engine (admit -> end)", [ended[r[3]][0] - admitted[r[3]] for r in timed]),
        ("  end -> worker sees it", [seen[r[3]] - ended[r[3]][0] for r in timed]),
        ("  seen -> panel: completed", [r[4] + r[0] - seen[r[3]] for r in timed]),
    )
    shares = [(ended[r[3]][0] - admitted[r[3]]) / r[0] for r in timed]
    lines = [f"{mode}: completed {len(done)} of {len(rows)}; engine runs timed: {len(timed)}"]
    median_total = statistics.median(parts[0][1]) if done else float("nan")
    for name, values in parts:
        median = statistics.median(values) if values else float("nan")
        lines.append(
            f"{'':2}{name:28}{median:>10.3f}{machine.percentile(values, 0.9):>8.3f}"
            f"{max(values, default=float('nan')):>8.3f}{median / median_total:>17.0%}"
        )
    if shares:
        lines.append(
            f"  engine share of each click -> result: median {statistics.median(shares):.0%}"
        )
    return lines


def main(argv=None):
    global GARMENT_PORT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--poll", type=float, default=0.25)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if not modes or not set(modes) <= set(MODES):
        parser.error(f"--modes: choose from {', '.join(MODES)}")

    machine.ensure_bench_database()
    print(f"machine: {os.cpu_count()} cores, {machine.cpu_model()}")
    print(f"load average at start: {machine.load_average()}", flush=True)
    media = tempfile.TemporaryDirectory(prefix="bench-embed-media-")
    certs = tempfile.TemporaryDirectory(prefix="bench-embed-certs-")
    garments, ca_file = start_garment_host(certs.name)
    GARMENT_PORT = garments.server_address[1]
    # The web server's port is chosen first: the webhook mode's workers need its address.
    port = machine.free_port()
    base = f"http://127.0.0.1:{port}"
    tables = []
    with machine.bench_engine(canned=False) as engine:
        os.environ.update(
            machine.bench_environment(
                tag=f"bench-embed-{os.getpid()}",
                media_root=media.name,
                engine=engine,
                DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
                PUBLIC_BASE_URL=base,
            )
        )
        import django

        django.setup()
        from django.core.management import call_command

        from avatar_studio.embed.models import Shop

        call_command("migrate", verbosity=0)
        policy = loopback_only_policy(ca_file)
        times = (
            record_admissions(engine),
            machine.record_completions(engine),
            machine.record_first_completed_status(engine),
        )
        webhooks = machine.count_webhooks()
        Shop.objects.filter(name="Bench shop").delete()
        shop = Shop.objects.create(name="Bench shop", allowed_origins=SHOP_ORIGIN)
        web = start_web_here(port)
        try:
            for mode in modes:
                tables.append(run_mode(mode, args, engine, media.name, base, shop, times, webhooks))
                print(f"  ({mode} done, load average {machine.load_average()})", flush=True)
        finally:
            web.shutdown()
            web.server_close()
            garments.shutdown()
            machine.forget_redis_keys(f"bench-embed-{os.getpid()}")
    outside = set(policy.connected) - {"127.0.0.1"}
    if outside:
        sys.exit(f"the fetcher connected outside loopback: {outside}")

    print(
        f"{args.clicks} clicks per mode, each on its own garment picture (no try-on cache hit); "
        f"panel polled every {args.poll:g} s; offline engine with its real renderer, "
        "processing_seconds 0; 1 Celery worker process, prefork concurrency 2; polling: no "
        "webhooks (the poll cadence); webhooks: PUBLIC_BASE_URL set, as runstack does"
    )
    print()
    header = f"{'':30}{'median s':>10}{'p90 s':>8}{'max s':>8}{'share of median':>17}"
    print(header)
    print("-" * len(header))
    for lines in tables:
        print("\n".join(lines))
    print()
    print(
        "click -> engine admits: the POST (garment fetched, normalised, stored, job queued), the "
        "worker taking the job and calling /v1/run; end -> worker sees it: the status poll (or "
        "the webhook bringing it forward); seen -> panel: storing the result, the panel's polling"
    )
    print(f"load average at end: {machine.load_average()}")
    media.cleanup()
    certs.cleanup()


if __name__ == "__main__":
    main()
