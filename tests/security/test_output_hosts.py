"""Provider outputs are downloaded only from allowed hosts over https; the offline engine's own
host:port over http only while it is the configured provider."""

import http.server
import threading

import pytest

from avatar_studio import fashn
from avatar_studio.avatars.models import PredictionAttempt
from avatar_studio.avatars.pipeline import outputs
from avatar_studio.avatars.pipeline.outputs import OutputHostPolicy

from ..support.faces import flat_image
from ..support.jobs import make_job

pytestmark = pytest.mark.django_db


def test_the_policy_allows_https_to_the_listed_hosts_only():
    policy = OutputHostPolicy(["cdn.fashn.ai"], ["127.0.0.1:8100"])

    assert policy.allows("https://cdn.fashn.ai/abc/output_0.png")
    assert policy.allows("https://CDN.fashn.ai:443/abc/output_0.png")
    assert not policy.allows("http://cdn.fashn.ai/abc/output_0.png")  # not over http
    assert not policy.allows("https://cdn.fashn.ai:8443/abc.png")  # nor another port
    assert not policy.allows("https://cdn.fashn.ai.evil.example/abc.png")
    assert not policy.allows("https://evil.example/cdn.fashn.ai/abc.png")
    assert not policy.allows("https://user@evil.example/abc.png")
    assert not policy.allows("ftp://cdn.fashn.ai/abc.png")
    assert policy.allows("http://127.0.0.1:8100/v1/outputs/x/0.png")
    assert not policy.allows("http://127.0.0.1:8101/v1/outputs/x/0.png")
    assert not policy.allows("http://localhost:8100/v1/outputs/x/0.png")


def test_the_engine_is_allowed_only_while_it_is_the_provider(settings):
    settings.FASHN_OUTPUT_HOSTS = ["cdn.fashn.ai"]
    settings.FASHN_BASE_URL = "http://127.0.0.1:8100"
    settings.USING_OFFLINE_ENGINE = True
    assert OutputHostPolicy.from_settings().allows("http://127.0.0.1:8100/v1/outputs/x/0.png")

    settings.USING_OFFLINE_ENGINE = False
    settings.FASHN_BASE_URL = "https://api.fashn.ai"
    policy = OutputHostPolicy.from_settings()
    assert not policy.allows("http://127.0.0.1:8100/v1/outputs/x/0.png")
    assert not policy.allows("https://api.fashn.ai/v1/outputs/x/0.png")
    assert policy.allows("https://cdn.fashn.ai/x/output_0.png")


class _ImageServer:
    """A tiny http server: /image.png is a PNG, /hop redirects to ``redirect_to``."""

    def __init__(self):
        self.requests = []
        self.redirect_to = ""
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.requests.append(self.path)
                if self.path == "/hop":
                    self.send_response(302)
                    self.send_header("Location", owner.redirect_to)
                    self.end_headers()
                    return
                body = flat_image(size=(32, 48))
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def job_and_attempt(alice):
    job = make_job(alice)
    attempt = PredictionAttempt.objects.create(
        job=job, number=1, prediction_id="pred-hosts", submitted_at=job.created_at
    )
    return job, attempt


def test_outputs_from_the_configured_engine_are_stored(settings, job_and_attempt):
    with _ImageServer() as server:
        settings.USING_OFFLINE_ENGINE = True
        settings.FASHN_BASE_URL = f"http://{server.origin}"

        stored = outputs.store_outputs(*job_and_attempt, [f"http://{server.origin}/image.png"])

    assert len(stored) == 1
    assert server.requests == ["/image.png"]


def test_outputs_from_other_hosts_are_refused_before_any_request(settings, job_and_attempt):
    with _ImageServer() as server:
        settings.USING_OFFLINE_ENGINE = False  # the FASHN cloud is the provider
        settings.FASHN_BASE_URL = "https://api.fashn.ai"
        settings.FASHN_OUTPUT_HOSTS = ["cdn.fashn.ai", "127.0.0.1"]  # even if listed: not https

        with pytest.raises(fashn.OutputHostNotAllowedError):
            outputs.store_outputs(*job_and_attempt, [f"http://{server.origin}/image.png"])

    assert server.requests == []


def test_a_redirect_to_a_host_not_allowed_is_not_followed(settings, job_and_attempt):
    with _ImageServer() as server, _ImageServer() as elsewhere:
        settings.USING_OFFLINE_ENGINE = True
        settings.FASHN_BASE_URL = f"http://{server.origin}"
        server.redirect_to = f"http://{elsewhere.origin}/image.png"

        with pytest.raises(fashn.OutputHostNotAllowedError):
            outputs.store_outputs(*job_and_attempt, [f"http://{server.origin}/hop"])

    assert server.requests == ["/hop"]
    assert elsewhere.requests == []


def test_data_uri_outputs_need_no_host(settings, job_and_attempt):
    import base64

    settings.FASHN_OUTPUT_HOSTS = []
    uri = "data:image/png;base64," + base64.b64encode(flat_image(size=(16, 16))).decode()

    assert len(outputs.store_outputs(*job_and_attempt, [uri])) == 1


def test_a_refused_host_fails_the_job_without_retrying(
    engine, alice, fast_pipeline, settings, monkeypatch
):
    """Through the pipeline: the engine is configured but its outputs' host is not allowed."""
    from ..privacy.conftest import run_pipeline_in_process

    monkeypatch.setattr(
        OutputHostPolicy, "from_settings", classmethod(lambda cls: cls(["cdn.fashn.ai"]))
    )
    job = run_pipeline_in_process(make_job(alice, return_base64=False))

    assert job.status == "failed"
    assert job.error_name == "ResultUnavailable"
    assert engine.stats()["output_calls"] == 0
