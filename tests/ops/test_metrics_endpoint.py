"""/metrics as a door: off (404) until METRICS_TOKEN is set, then only for its bearer."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from .scraping import TOKEN, parse, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_without_a_token_setting_the_endpoint_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_a_scrape_without_a_bearer_token_is_asked_for_one(client, token):
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": f"Basic {token}"},
        {"HTTP_AUTHORIZATION": "Bearer "},
    ):
        response = client.get("/metrics", **headers)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"avatar_studio" not in response.content


@pytest.mark.parametrize(
    "wrong", [TOKEN[:-1] + "X", TOKEN[:-1], TOKEN + "0", "short", TOKEN.upper()]
)
def test_a_wrong_token_is_refused(client, token, wrong):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {wrong}")

    assert response.status_code == 403
    assert b"avatar_studio" not in response.content


def test_the_right_token_gets_the_prometheus_text_format(client, token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {token}")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    samples = parse(response.content.decode())
    assert value(samples, "avatar_studio_jobs", status="queued") == 0
    assert value(samples, "avatar_studio_metrics_redis_up") == 1
    # Nothing of the answering process itself: another web process would answer other values.
    assert not any(name.startswith(("process_", "python_")) for name, _labels in samples)


def test_openmetrics_is_answered_when_prometheus_asks_for_it(client, token):
    response = client.get(
        "/metrics",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.content.endswith(b"# EOF\n")


def test_only_get_is_answered(client, token):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 405


def test_a_short_token_stops_the_start_up_with_its_name():
    env = {**os.environ, "DJANGO_DEBUG": "true", "METRICS_TOKEN": "too-short"}
    started = subprocess.run(
        [sys.executable, "-c", "import avatar_studio.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )

    assert started.returncode != 0
    assert "METRICS_TOKEN must be at least 32 characters long" in started.stderr
