"""200 people submit a selfie at the same moment, through gunicorn, to two Celery workers.

Half use the browser form (a logged-in session, the page's CSRF token), half the JSON API with
their own token. Every one must get a normal answer (no error page), every job must complete, no
job may be submitted twice, and FASHN's in-flight limit of 6 must never be exceeded.

The engine allows twice FASHN's in-flight limit, so that the app's own limit of 6 is what is
measured: were the engine to refuse a seventh prediction, more than 6 could never be seen. The
request-rate limits are raised (runs 600 and status calls 500 per window, on both sides): at
FASHN's own 50 runs per minute, 200 submissions alone take four minutes, and what is under test
here is the app under a crowd, not the rate limiter (tests/pipeline and the fault suite cover
that).
"""

import io
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from statistics import median

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from PIL import Image
from rest_framework.authtoken.models import Token

from avatar_studio.avatars.models import AvatarJob, JobStatus

from ..support import crafted
from ..support.faces import astronaut_jpeg
from ..support.reliability import BASE_DIR
from ..support.webserver import Gunicorn

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PEOPLE = 200
LOAD_ARTIFACT = BASE_DIR / "test-artifacts" / "load.json"
MAX_IN_FLIGHT = 6
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
JOB_PAGE = re.compile(r"^/avatars/[0-9a-f-]{36}/$")


@pytest.fixture
def crowd():
    """200 accounts: the first half will use the browser, the rest the API."""
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"shopper{i:03d}") for i in range(PEOPLE))
    users = list(User.objects.filter(username__startswith="shopper").order_by("username"))
    browser_people, api_people = users[: PEOPLE // 2], users[PEOPLE // 2 :]
    sessions = []
    for user in browser_people:
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies["sessionid"].value)
    tokens = [Token.objects.create(user=user).key for user in api_people]
    return sessions, tokens


def _selfie():
    with Image.open(io.BytesIO(astronaut_jpeg())) as face:
        return crafted.encode(face.resize((384, 384)), "JPEG")


def _submit_with_the_form(base, session_id, selfie, start):
    http = requests.Session()
    http.cookies.set("sessionid", session_id)
    # Not kept alive: gunicorn closes idle connections after 2 s, and the POST waits for the
    # whole crowd at the barrier first; a POST sent on a connection closed meanwhile is lost.
    page = http.get(f"{base}/", timeout=60, headers={"Connection": "close"})
    token = CSRF_INPUT.search(page.text).group(1)
    start.wait()
    began = time.monotonic()
    response = http.post(
        f"{base}/",
        data={
            "csrfmiddlewaretoken": token,
            "prompt": "athletic build",
            "aspect_ratio": "2:3",
            "seed": "42",
            "output_format": "jpeg",
            "consent": "on",
        },
        files={"face_image": ("me.jpg", selfie, "image/jpeg")},
        headers={"Referer": f"{base}/"},
        allow_redirects=False,
        timeout=120,
    )
    ok = response.status_code == 302 and JOB_PAGE.match(response.headers.get("Location", ""))
    return "form", bool(ok), response.status_code, time.monotonic() - began


def _submit_with_the_api(base, token, selfie, start):
    start.wait()
    began = time.monotonic()
    response = requests.post(
        f"{base}/api/v1/avatars/",
        data={"prompt": "curvy figure", "consent": "true"},
        files={"face_image": ("me.jpg", selfie, "image/jpeg")},
        headers={"Authorization": f"Token {token}"},
        timeout=120,
    )
    return "api", response.status_code == 201, response.status_code, time.monotonic() - began


def test_two_hundred_people_submit_at_once(
    crowd, engine, worker_env, start_worker, tmp_path, capsys
):
    sessions, tokens = crowd
    engine.configure(
        processing_seconds=0.5,
        max_in_flight=2 * MAX_IN_FLIGHT,
        run_limit=600,
        status_limit=500,
    )
    server_env = {
        **worker_env,
        "FASHN_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
        "FASHN_RUN_RATE": "600/60",
        "FASHN_STATUS_RATE": "500/10",
    }
    server = Gunicorn(server_env, tmp_path / "gunicorn.log").start()
    worker_env.update(server_env, PUBLIC_BASE_URL=server.url)
    start_worker()
    start_worker()
    selfie = _selfie()
    start = threading.Barrier(PEOPLE)
    try:
        with ThreadPoolExecutor(PEOPLE) as pool:
            form, api = _submit_with_the_form, _submit_with_the_api
            futures = [pool.submit(form, server.url, s, selfie, start) for s in sessions]
            futures += [pool.submit(api, server.url, t, selfie, start) for t in tokens]
            answers = [future.result() for future in futures]
        submitted = time.monotonic()
        failures = [(kind, status) for kind, ok, status, _ in answers if not ok]
        assert failures == []

        deadline = time.monotonic() + 180
        running = AvatarJob.objects.exclude(status__in=[JobStatus.COMPLETED, JobStatus.FAILED])
        while running.exists():
            assert time.monotonic() < deadline, "jobs still running after 180 s"
            time.sleep(0.5)
        all_done = time.monotonic() - submitted
    finally:
        server.stop()

    jobs = list(AvatarJob.objects.prefetch_related("attempts", "results"))
    assert len(jobs) == PEOPLE
    assert [job.status for job in jobs] == [JobStatus.COMPLETED] * PEOPLE
    assert all(job.results.count() == 1 for job in jobs)
    stats = engine.stats()
    assert stats["runs_accepted"] == PEOPLE  # nobody's selfie was submitted twice
    assert sum(len(job.attempts.all()) for job in jobs) == PEOPLE
    # Never more than our limit at the engine (it would have taken twice as many), and nothing
    # refused. Not "exactly 6": a 0.5 s prediction may end before the sixth is admitted.
    assert stats["max_in_flight_seen"] <= MAX_IN_FLIGHT
    assert stats["rejected"] == {}

    seconds = sorted(answer[3] for answer in answers)
    figures = {
        "people": PEOPLE,
        "by_form": len(sessions),
        "by_api": len(tokens),
        "answers_ok": sum(ok for _kind, ok, _status, _seconds in answers),
        "answer_median_s": round(median(seconds), 2),
        "answer_p95_s": round(seconds[int(0.95 * len(seconds))], 2),
        "answer_max_s": round(seconds[-1], 2),
        "completed": sum(job.status == JobStatus.COMPLETED for job in jobs),
        "all_completed_after_s": round(all_done, 1),
        "runs_accepted": stats["runs_accepted"],
        "max_in_flight_seen": stats["max_in_flight_seen"],
        "rejected": stats["rejected"],
    }
    _record(figures)
    with capsys.disabled():
        print(f"\nload: {json.dumps(figures)}")


def _record(figures):
    """Keep the figures for docs/RELIABILITY.md (bench/reliability_table.py), per database."""
    try:
        data = json.loads(LOAD_ARTIFACT.read_text())
    except (OSError, ValueError):
        data = {}
    data[connection.vendor] = figures
    LOAD_ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    LOAD_ARTIFACT.write_text(json.dumps(data, indent=2) + "\n")
